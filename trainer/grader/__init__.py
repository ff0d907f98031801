"""The grader: per-turn features and classifier, the assessment, the scorecard, the LLM judge, transcripts."""
