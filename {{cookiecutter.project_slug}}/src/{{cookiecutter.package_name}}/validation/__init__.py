"""Data validation with Great Expectations, driven by the data contract and the data rules.

Entry points live in `service` (imported on demand: it loads pandas, and GX
when a validation runs); this package root stays light so the CLI can catch
`DataValidationError` without importing either.
"""

from .errors import DataValidationError

__all__ = ["DataValidationError"]
