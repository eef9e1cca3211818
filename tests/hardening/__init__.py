"""Hardening tests (issue 6): the hostile schema corpus (tests/schemas/), fuzzing, bad input,
injection, faults against the loopback test server, and secrets.

`python -m tests.hardening.report` runs them and prints the table of what they tried.
"""
