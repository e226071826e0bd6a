"""The error raised when data fails validation; free of heavy imports so the CLI can catch it."""

from __future__ import annotations


class DataValidationError(ValueError):
    """The data broke the contract; the message is the table of failed checks.

    Training refuses such data and the CLI prints the message as is, so a data
    scientist reads the same table wherever validation runs.
    """
