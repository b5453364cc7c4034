"""The detection core: pure, deterministic, no I/O.

Events go in, findings and observations come out. State lives in objects the caller owns
(plain dicts offline, Faust-table-backed mappings in the stream), so the same code runs over a
history file and inside the stream processor. Nothing here imports a broker, stream framework,
metrics library or CLI; an import-linter contract in pyproject.toml enforces it.
"""
