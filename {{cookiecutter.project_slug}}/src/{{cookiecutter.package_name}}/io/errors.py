"""Errors of the file layer, kept free of heavy imports.

The CLI catches these to print one clear line; defining them apart from the
pandas-based readers keeps `--help` from importing pandas.
"""

from __future__ import annotations


class DataFileError(ValueError):
    """A data file cannot be read as a table; the message says why and what to do."""
