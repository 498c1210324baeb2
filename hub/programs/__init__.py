"""Programmes run by agencies (PKH, BPNT, PBI-JK, KIP, Rutilahu, ATENSI) and enrolments."""
