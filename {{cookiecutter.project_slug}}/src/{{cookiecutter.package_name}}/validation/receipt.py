"""The receipt of a passing validation, so training need not validate the same data twice.

`make ci` validates the data, runs the data tests, then trains; training validates
before it reads anything, and doing it again on the same bytes cost a second load
of Great Expectations (about 7 s of a 17 s training). A passing validation that
writes its reports also writes this receipt: a key over everything the verdict
depends on (the file's bytes, the checks as planned from the contract and rules,
the size and chunk limits, the validation code and the versions of the libraries
that run it). Training accepts the earlier verdict only for the same key; any
other file, byte, rule, limit or code validates again.

The receipt lives in the reports folder, a local cache and not a signature: whoever
can edit it can edit the data too. A fresh checkout (every CI job) has none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from ..contract.datasets import DataLimits, fingerprint
from ..contract.model import DataContract
from .plan import Check

RECEIPT_FILE = "data_validation.receipt.json"
# The code whose behaviour decides a verdict: this package and the contract's readers.
_CODE_DIRS = (Path(__file__).parent, Path(__file__).parent.parent / "contract")
_LIBRARIES = ("great_expectations", "pandas", "numpy", "pyarrow")


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def _code_digest() -> str:
    digest = hashlib.sha256()
    for folder in _CODE_DIRS:
        for source in sorted(folder.glob("*.py")):
            digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def receipt_key(
    path: Path, contract: DataContract, plan: Sequence[Check], limits: DataLimits
) -> str:
    """What a verdict on `path` depends on, as one sha256."""
    parts = {
        "data": fingerprint(path),
        "contract": contract.model_dump(mode="json", exclude={"data_file"}),
        "plan": [asdict(check) for check in plan],
        "limits": asdict(limits),
        "code": _code_digest(),
        "libraries": _library_versions(),
    }
    canonical = json.dumps(parts, sort_keys=True, default=_canonical)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: object) -> object:
    """JSON for what json cannot write: sets sorted (their order changes between processes)."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return str(value)


def forget(reports_dir: Path) -> None:
    """Drop the receipt: a new validation is about to replace the reports it vouches for."""
    (reports_dir / RECEIPT_FILE).unlink(missing_ok=True)


def write_receipt(reports_dir: Path, key: str, summary: str) -> Path:
    """Record that the data with this key passed, and what was validated (for the log)."""
    path = reports_dir / RECEIPT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key, "summary": summary}, indent=2) + "\n", "utf-8")
    return path


def passed_before(reports_dir: Path, key: str) -> str | None:
    """The summary of an earlier pass with the same key; None when there was none.

    A missing, unreadable or malformed receipt is no receipt: the data is validated.
    """
    try:
        recorded = json.loads((reports_dir / RECEIPT_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("key") != key:
        return None
    summary = recorded.get("summary")
    return summary if isinstance(summary, str) else None
