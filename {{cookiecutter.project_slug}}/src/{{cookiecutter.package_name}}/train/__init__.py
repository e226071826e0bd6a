"""Training: split, features, estimator, metrics, model checks; the model store and tracking."""
