"""Data in: DTKS (SIKS-NG) file imports, validated, staged and merged month by month."""
