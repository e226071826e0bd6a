"""The project's ML pipeline: data contract, training, evaluation, serving and release."""

__version__ = "0.1.0"
