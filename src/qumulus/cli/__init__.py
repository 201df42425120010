"""The ``qumulus`` command line."""
