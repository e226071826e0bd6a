"""The pipeline steps behind the CLI commands: they wire core logic to io side effects."""
