"""The landlord blueprint."""
