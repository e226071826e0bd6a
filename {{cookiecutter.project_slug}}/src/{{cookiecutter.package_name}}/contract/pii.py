"""Personal data in what the service keeps: hash it (keyed) or leave it out.

The contract marks personal columns (`pii: true`, and the id column unless
`id_pii: false`). The prediction log must not hold them in clear: with "hash"
each value becomes `h:<hex>`, an HMAC-SHA256 under a secret key, so equal
values stay equal (late labels still join on a hashed id) but cannot be read
back; with "drop" the column is left out. Pure functions: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any, Literal

HASH_PREFIX = "h:"
HASH_CHARS = 24  # 96 bits: no collision in any realistic log
PiiMode = Literal["hash", "drop"]


def pii_hash(value: Any, key: str = "") -> str:
    """A stable one-way token for `value` (keyed when `key` is set)."""
    text = str(value).encode("utf-8")
    digest = (
        hmac.new(key.encode("utf-8"), text, hashlib.sha256).hexdigest()
        if key
        else hashlib.sha256(text).hexdigest()
    )
    return HASH_PREFIX + digest[:HASH_CHARS]


def is_hashed(value: Any) -> bool:
    """True for a token `pii_hash` made."""
    return isinstance(value, str) and value.startswith(HASH_PREFIX)


def redact(
    values: Mapping[str, Any], columns: Iterable[str], mode: PiiMode, key: str = ""
) -> dict[str, Any]:
    """`values` with the personal `columns` hashed or removed (None stays None)."""
    personal = set(columns)
    result: dict[str, Any] = {}
    for name, value in values.items():
        if name not in personal:
            result[name] = value
        elif mode == "hash":
            result[name] = None if value is None else pii_hash(value, key)
    return result
