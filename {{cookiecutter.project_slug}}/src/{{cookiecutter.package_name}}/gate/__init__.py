"""The quality gate: compare a candidate with its baseline, and the pull-request report."""
