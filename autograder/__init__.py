"""Trusted grading side of cnnlabs: assign, execute, grade, report."""
