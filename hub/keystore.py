"""Where the hub's secrets come from: a variable, a file, or (tests) memory.

The identity layer's signing keys (`hub.auth.keys`) and the audit trail's checkpoint key and
pepper (`hub.audit.keys`) each parse their text their own way; where the text comes from is
written once here. In production a secret comes from a file or a variable named by the
settings; in development a file is generated on first use under `var/keys/` (owner-only);
tests hold parsed secrets in memory. None ever lives in the repository or the database.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from hub.env import SettingsError

T = TypeVar("T")


class EnvSecret(Generic[T]):
    """A secret given as the value of a variable, parsed on `load`; read-only."""

    def __init__(self, text: str, parse: Callable[[str], T]) -> None:
        self._text = text
        self._parse = parse

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"

    def load(self) -> T:
        """The parsed secret."""
        return self._parse(self._text)


class FileSecret(Generic[T]):
    """A secret in a file, parsed on `load`; generated on first use when `create` is set."""

    def __init__(
        self,
        path: Path,
        *,
        parse: Callable[[str], T],
        generate: Callable[[], str],
        create: bool = False,
        missing: type[SettingsError] = SettingsError,
        what: str = "secret file",
    ) -> None:
        self.path = path
        self.create = create
        self._parse = parse
        self._generate = generate
        self._missing = missing
        self._what = what
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def load(self) -> T:
        """The parsed secret, generating the file first when allowed and missing."""
        with self._lock:
            if not self.path.exists():
                if not self.create:
                    raise self._missing(f"{self._what} {self.path} does not exist")
                self._write_text(self._generate(), replace=False)
            return self._parse(self.path.read_text())

    def _write_text(self, text: str, *, replace: bool = True) -> None:
        """Write the file atomically, readable by its owner only.

        With `replace=False` an existing file wins: two workers starting together on a
        fresh checkout then share one secret instead of each making its own.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w") as stream:
                stream.write(text)
            if replace:
                os.replace(temporary, self.path)
            else:
                with contextlib.suppress(FileExistsError):
                    os.link(temporary, self.path)
        finally:
            Path(temporary).unlink(missing_ok=True)
