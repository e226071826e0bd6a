"""Watching the model in production: prediction log, drift statistics, reports, alerts."""
