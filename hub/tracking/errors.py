"""The one error type of tracking, with its codes."""

from __future__ import annotations

from enum import Enum


class TrackingErrorCode(Enum):
    """Why a tracking operation failed."""

    INVALID_TRACKING_CODE = "INVALID_TRACKING_CODE"
    TRACKING_CODE_NOT_FOUND = "TRACKING_CODE_NOT_FOUND"
    NEED_NOT_FOUND = "NEED_NOT_FOUND"


class TrackingError(Exception):
    """An expected failure of a tracking operation, with a code and a message."""

    def __init__(self, code: TrackingErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
