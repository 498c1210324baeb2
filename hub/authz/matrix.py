"""The permission matrix: the policy as a table a person can read and a test can walk."""

from __future__ import annotations

from dataclasses import dataclass

from hub.authz.catalog import PERSONAL_FIELDS, ROLES, ROW_TYPES, Level, Purpose
from hub.authz.policy import Policy

_LEVEL_TEXT = {
    Level.FULL: "full",
    Level.PLEDGED: "full while pledged, else masked",
    Level.MASKED: "masked",
    Level.NONE: "none",
}


@dataclass(frozen=True, slots=True)
class Cell:
    """One decision: may `role` do `subject`, and how (`allowed`, `denied`, a level…)."""

    layer: str
    subject: str
    role: str
    decision: str


def cells(policy: Policy) -> list[Cell]:
    """Every cell of the matrix, layer by layer, in a stable order."""
    out: list[Cell] = []
    access = {role: policy.access([role]) for role in ROLES}
    for operation in sorted(policy.operations):
        for role in ROLES:
            allowed = access[role].may_run(operation)
            out.append(Cell("operation", operation, role, "allowed" if allowed else "denied"))
    for type_name in ROW_TYPES:
        for role in ROLES:
            rules = access[role].row_rules(type_name)
            out.append(Cell("rows", type_name, role, " + ".join(rules) if rules else "none"))
    for type_name, names in PERSONAL_FIELDS.items():
        for name in names:
            for role in ROLES:
                level = access[role].level(type_name, name)
                out.append(Cell("field", f"{type_name}.{name}", role, level.value))
    for purpose in Purpose:
        for role in ROLES:
            stated = purpose in access[role].purposes
            out.append(Cell("purpose", purpose.value, role, "allowed" if stated else "denied"))
    return out


def _table(title: str, intro: str, rows: dict[str, dict[str, str]]) -> list[str]:
    lines = [f"## {title}", "", intro, "", "| | " + " | ".join(ROLES) + " |"]
    lines.append("|---" * (len(ROLES) + 1) + "|")
    for subject, by_role in rows.items():
        lines.append(f"| `{subject}` | " + " | ".join(by_role[r] for r in ROLES) + " |")
    return [*lines, ""]


def markdown(policy: Policy) -> str:
    """The matrix as Markdown, as committed in `policies/MATRIX.md`."""
    grouped: dict[str, dict[str, dict[str, str]]] = {}
    for cell in cells(policy):
        text = cell.decision
        if cell.layer == "field":
            text = _LEVEL_TEXT[Level(cell.decision)]
            only = policy.access([cell.role]).field_purposes.get(cell.subject)
            if only and cell.decision != Level.NONE.value:
                text += " (for " + ", ".join(sorted(p.value for p in only)) + ")"
        elif cell.decision == "allowed":
            text = "✓"
        elif cell.decision == "denied":
            text = "—"
        grouped.setdefault(cell.layer, {}).setdefault(cell.subject, {})[cell.role] = text
    lines = [
        "# Permission matrix",
        "",
        "Generated from `policies/model.conf` and `policies/policy.csv` by "
        "`hub policy matrix`; do not edit by hand. A test walks every cell through HTTP with "
        "a token of each role, and another fails when this file is stale. Field-access "
        "changes Dinsos makes at run time are not in this file: `permissionMatrix` serves "
        "the live matrix.",
        "",
    ]
    lines += _table(
        "Operations",
        "Which query fields and mutations each role may run (✓) or not (—). Everything not "
        "allowed is denied.",
        grouped["operation"],
    )
    lines += _table(
        "Rows",
        "Which records each role reaches through lists, lookups and `node(id)`: the named "
        "row rules, OR-ed and compiled to SQL (`hub/authz/rows.py`). `none`: no records.",
        grouped["rows"],
    )
    lines += _table(
        "Personal fields",
        "At which level each role sees personal fields. Masked: NIK and KK as "
        "`3273********0009`, names as initials; birth date, exact age, street address, "
        "RT/RW and phone null (the age band and the kelurahan stay). Reading a field in full "
        "needs an `X-Purpose` header.",
        grouped["field"],
    )
    lines += _table(
        "Purposes",
        "Which purposes each role may state in `X-Purpose` (UU PDP purpose limitation).",
        grouped["purpose"],
    )
    return "\n".join(lines).rstrip() + "\n"
