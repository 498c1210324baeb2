"""Why a DTKS file cannot be imported at all (see `hub.errors` for the shape).

A bad row is not an error: it goes to the rejects file. These refuse the whole file, before
anything is written.
"""

from __future__ import annotations

from enum import StrEnum

from hub.errors import DomainError


class ImportErrorCode(StrEnum):
    """Why a file was refused."""

    #: Not a file, not UTF-8 text, a damaged workbook or a malformed CSV line.
    UNREADABLE = "UNREADABLE"
    #: No header, or no data sheet.
    EMPTY = "EMPTY"
    #: The header's separator is none of | , ; or tab.
    UNKNOWN_FORMAT = "UNKNOWN_FORMAT"
    #: A required column is missing (the message names it).
    MISSING_COLUMN = "MISSING_COLUMN"


class ImportFileError(DomainError):
    """The file cannot be imported; `code` says why, the message what to do."""

    code: ImportErrorCode

    def __init__(self, code: ImportErrorCode, message: str) -> None:
        super().__init__(code, message)
