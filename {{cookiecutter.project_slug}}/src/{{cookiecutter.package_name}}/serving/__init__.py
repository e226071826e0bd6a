"""The online service: request schema from the data contract, ONNX predictor, metrics.

Nothing in this package imports pandas or scikit-learn (except the explicit
fallback predictor), so the serving image installs only the `serve` group.
"""
