"""Evaluation: eval suites and their runner, calibration against human labels, session rankings."""
