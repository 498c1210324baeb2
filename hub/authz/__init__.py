"""Authorization declared as policy (casbin), applied in three layers.

catalog.py    the names the policy speaks of: roles, purposes, personal fields, levels
policy.py     loading the policy (file, plus overrides stored in the database) and the
              per-role-set `Access` decided once and reused until the policy changes
rows.py       row rules by name, compiled to SQL filters
masking.py    field levels applied to the objects of a response
checks.py     the schema extension refusing operations and purposes before execution
matrix.py     the human-readable permission matrix generated from the policy
models.py     the database tables of policy overrides and the policy version
service.py    changing field access at run time (Dinsos), persisted and versioned
"""
