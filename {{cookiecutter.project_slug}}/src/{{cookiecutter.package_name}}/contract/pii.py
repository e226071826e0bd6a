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
from collections.abc import Iterable, Mapping, Sequence
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


def pii_hash_many(values: Sequence[Any], key: str = "") -> list[str | None]:
    """`pii_hash` of each value (None stays None): the same tokens, cheaper per value.

    Every record of a 1,000-row batch has its id hashed. Without a key the hash is
    inlined (no call per value); with one, the keyed HMAC state is built once and
    copied per value (`hmac` itself: ~3.3 ms per 1,000 values against ~4.4 ms for
    `hmac.new` each time).
    """
    if not key:
        sha256 = hashlib.sha256
        return [
            None if v is None else HASH_PREFIX + sha256(str(v).encode()).hexdigest()[:HASH_CHARS]
            for v in values
        ]
    keyed = hmac.new(key.encode("utf-8"), digestmod=hashlib.sha256)

    def token(value: Any) -> str:
        state = keyed.copy()
        state.update(str(value).encode("utf-8"))
        return HASH_PREFIX + state.hexdigest()[:HASH_CHARS]

    return [None if v is None else token(v) for v in values]


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
