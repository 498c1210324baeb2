"""Expected failures of registry writes: households, citizens, enrolments pushed by agencies
(see `hub.errors` for the shape)."""

from __future__ import annotations

from enum import StrEnum

from hub.errors import DomainError


class RegistryErrorCode(StrEnum):
    """Why a registry write was refused."""

    #: A value out of range or malformed (the message names the field and what is accepted).
    INVALID_INPUT = "INVALID_INPUT"
    #: The NIK is malformed or disagrees with the birth date or sex.
    INVALID_NIK = "INVALID_NIK"
    #: The KK number is malformed.
    INVALID_KK = "INVALID_KK"
    #: The kelurahan code is not one of Kota Bandung's.
    REGION_NOT_FOUND = "REGION_NOT_FOUND"
    HOUSEHOLD_NOT_FOUND = "HOUSEHOLD_NOT_FOUND"
    CITIZEN_NOT_FOUND = "CITIZEN_NOT_FOUND"
    PROGRAM_NOT_FOUND = "PROGRAM_NOT_FOUND"
    #: The DTKS id or KK number belongs to another household.
    CONFLICT = "CONFLICT"
    #: The record changed since the version the write was based on (or none was sent).
    STALE_WRITE = "STALE_WRITE"
    #: endEnrollment found no running enrolment of the person in the programme.
    NOT_ENROLLED = "NOT_ENROLLED"


class RegistryError(DomainError):
    """A registry write was refused; `code` says why, `message` in words a person can act on."""

    code: RegistryErrorCode

    def __init__(self, code: RegistryErrorCode, message: str) -> None:
        super().__init__(code, message)
