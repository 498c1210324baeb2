"""The shape every generator hands to the writer: one tuple per row, in a declared order."""

from __future__ import annotations

Row = tuple[object, ...]
