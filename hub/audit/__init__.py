"""The audit trail: append-only, hash-chained, sealed by signed checkpoints (DESIGN.md §5).

- `events`      `AuditEvent`, `CitizenAccess`, and `CitizenAccessLog` (filled while a
                response is built): what the request path records
- `redact`      personal values in variables become HMAC-SHA256 keyed hashes
- `chain`       the canonical form and hash of an event (the spec auditors re-implement)
- `recorder`    `append` (in the caller's transaction) and `GroupCommitWriter` (reads)
- `runtime`     `AuditRecorder`, the one object the request path holds
- `checkpoints` when and how the chain is sealed; `notes`: the C2SP signed-note format
- `verify`      verification of the live chain; `export`: JSON Lines exports, offline checks
- `queries`     event lists, the access report of a citizen, integrity status
- `report`      the citizen's UU PDP art. 32 report; `archive`: retention
- `keys`        the signing key and the pepper; `settings`: `AuditSettings`
"""
