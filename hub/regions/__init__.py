"""Regions: Kota Bandung, its kecamatan and kelurahan, with Kemendagri codes."""
