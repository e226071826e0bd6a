"""Blue/green releases with automatic rollback: one lifecycle, pluggable platforms (local, aws)."""
