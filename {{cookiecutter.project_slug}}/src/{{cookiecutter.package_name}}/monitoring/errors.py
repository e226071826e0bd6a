"""The one error type of the monitoring commands.

Every problem a user can fix (a missing file, a malformed log line, a bad
threshold) surfaces as a DriftError, which the CLI prints as one line.
"""

from __future__ import annotations


class DriftError(ValueError):
    """Drift checking cannot run; the message says what to fix."""
