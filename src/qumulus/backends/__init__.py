"""Backends: the ideal simulator and (emulated) QPUs, each with a status and a characterization."""
