"""The officer blueprint."""
