"""Authorization lives in the policy: no resolver names a role, every rule name exists."""

from __future__ import annotations

import re
from pathlib import Path

from hub.authz.catalog import ROLES
from hub.authz.policy import policy_dir
from hub.authz.rows import RULES

HUB = Path(__file__).resolve().parents[2] / "hub"


def test_no_role_names_in_resolvers_or_graphql_layer() -> None:
    offenders = []
    # Resolvers live in schema.py files; types.py may name roles in the `Role` enum.
    for path in [*HUB.glob("*/schema.py"), *HUB.glob("graphql/*.py")]:
        text = path.read_text()
        for role in ROLES:
            if re.search(rf"[\"']{role}[\"']", text):
                offenders.append(f"{path.relative_to(HUB.parent)}: {role}")
    assert offenders == []


def test_every_row_rule_in_the_policy_has_sql() -> None:
    text = (policy_dir() / "policy.csv").read_text()
    named = set(re.findall(r"^p, \w+, (\w+), rows:(\w+)$", text, flags=re.MULTILINE))
    assert named <= set(RULES), named - set(RULES)
