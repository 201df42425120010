"""Use cases: one place for every rule. The REST API, the console and the CLI all call these."""
