"""Framework circuits and targets for the SDK core: each module imports its framework (qiskit, cirq)
at the top, so the core loads one only when it is handed that framework's object
(``client/programs.py``). The integrations (``qumulus.qiskit``, ``qumulus.cirq``) build on these."""
