"""Conversational role-play trainer for sales reps."""

__version__ = "0.1.0"
