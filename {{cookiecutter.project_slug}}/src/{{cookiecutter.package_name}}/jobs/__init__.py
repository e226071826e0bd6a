"""One module per CLI command: read inputs, call core/ logic, write outputs."""
