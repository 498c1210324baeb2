"""Registry: households (keluarga) and citizens (warga), anchored on DTKS."""
