"""Organisations (OPD, LKS, auditors), the needs and areas they serve, and their clients."""
