"""The employer blueprint."""
