"""Data validation with Great Expectations, driven by the data contract and the data rules.

Entry points live in `service` (imported on demand: it loads pandas, and GX
when a validation runs); `command` wires the `validate` command.
"""
