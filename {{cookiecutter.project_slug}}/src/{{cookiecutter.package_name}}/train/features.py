"""The feature pipeline, built from the data contract's column lists.

Categories come from the contract rather than from the training rows, so the
encoded feature space is fixed by the contract: a rare value missing from the
training split still gets its column, and a value the contract does not know
is ignored (all zeros) instead of crashing a prediction.
"""

from __future__ import annotations

from typing import Any

from ..contract.model import DataContract


def build_preprocessor(contract: DataContract) -> Any:
    """Numeric columns: median imputation then scaling; categorical columns: one-hot."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    transformers: list[tuple[str, Any, list[str]]] = []
    if contract.numeric:
        numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        transformers.append(("numeric", numeric, list(contract.numeric)))
    if contract.categorical:
        categories = [list(spec.values) for spec in contract.categorical.values()]
        encoder = OneHotEncoder(categories=categories, handle_unknown="ignore", sparse_output=False)
        transformers.append(("categorical", encoder, list(contract.categorical)))
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)


def build_pipeline(contract: DataContract, estimator: Any) -> Any:
    """Preprocessing and the classifier in one object: what is saved, logged and served."""
    from sklearn.pipeline import Pipeline

    return Pipeline([("features", build_preprocessor(contract)), ("classifier", estimator)])
