"""The masked SOAP envelopes of one RTDR call, kept as a JSON file under ``DATA_DIR/exchanges/rtdr/``.

``Exchange`` has no envelope field, so the file is the exchange's raw payload: ``raw_path`` (relative to
``DATA_DIR``), ``raw_size`` and ``checksum`` (SHA-256 of the file) point at it. The SOAP layer has
masked password elements and attributes already; every known secret value is replaced again here
before anything reaches the disk.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from partners.soap import MASK

logger = logging.getLogger(__name__)

FOLDER = Path("exchanges") / "rtdr"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Shorter "secrets" would mask ordinary digits of balances and account numbers.
MIN_SECRET_LENGTH = 4
_made_dirs: set[Path] = set()  # day folders this process created (saves a mkdir per call)


@dataclass(frozen=True)
class StoredEnvelopes:
    """Where the envelopes were written; ``raw_path`` is relative to ``DATA_DIR``."""

    raw_path: str
    raw_size: int
    checksum: str
    file_name: str


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every occurrence of each secret value replaced by the mask."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, MASK)
    return text


def unique_suffix() -> str:
    """Return a short random suffix: two calls in the same microsecond never share a file."""
    return uuid.uuid4().hex[:8]


def envelopes_store(
    *,
    bid: int,
    account_number: str,
    started_at: datetime,
    record: dict[str, Any],
    secrets: Iterable[str] = (),
) -> StoredEnvelopes | None:
    """Write ``record`` (request/response envelopes and call details) as JSON; return where it went.

    Returns None (and logs) when the file cannot be written: a full disk must not fail a lookup.
    """
    secrets = tuple(secrets)
    clean = {key: scrub(value, secrets) if isinstance(value, str) else value for key, value in record.items()}
    payload = json.dumps(clean, indent=1, default=str).encode("utf-8")
    safe_account = _UNSAFE.sub("_", account_number)[:60] or "account"
    file_name = f"{bid}_{safe_account}_{started_at:%Y%m%dT%H%M%S%f}_{unique_suffix()}.json"
    relative = FOLDER / f"{started_at:%Y}" / f"{started_at:%m}" / f"{started_at:%d}" / file_name
    target = Path(settings.DATA_DIR) / relative
    try:
        if target.parent not in _made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            _made_dirs.add(target.parent)
        with open(target, "xb") as out:  # never overwrite another call's envelopes
            out.write(payload)
    except OSError:
        _made_dirs.discard(target.parent)  # the folder may have been pruned: make it again next time
        logger.exception("cannot write RTDR envelopes to %s", target)
        return None
    return StoredEnvelopes(
        raw_path=relative.as_posix(),
        raw_size=len(payload),
        checksum=hashlib.sha256(payload).hexdigest(),
        file_name=file_name,
    )


def envelopes_read(raw_path: str) -> dict[str, Any]:
    """Return the stored record at ``raw_path`` (relative to ``DATA_DIR``); raises OSError/ValueError."""
    data: dict[str, Any] = json.loads((Path(settings.DATA_DIR) / raw_path).read_text(encoding="utf-8"))
    return data
