"""The data contract: one YAML file that says what the data is, and reading data files by it."""
