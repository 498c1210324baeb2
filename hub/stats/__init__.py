"""City-wide aggregates of needs and contributions, without personal data."""
