"""API key services: create (the key is returned once), look up by hash, revoke."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billers.api_models import ApiKey, ApiScope
from billers.models import Biller

KEY_PREFIX = "bb_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8
MAX_BID = 2**31 - 1


def key_hash(raw_key: str) -> str:
    """SHA-256 hex digest of a raw key (keys are 256-bit random, so a fast hash is enough)."""
    return hashlib.sha256(raw_key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    """A freshly created key: ``raw`` is shown to the vendor once and never stored."""

    key: ApiKey
    raw: str


def _scopes(scopes: list[str] | tuple[str, ...]) -> str:
    names = [s.strip().lower() for s in scopes if s.strip()]
    unknown = sorted(set(names) - set(ApiScope.values))
    if unknown or not names:
        raise ValidationError(
            f"scopes: expected some of {', '.join(ApiScope.values)}; got {', '.join(scopes) or 'nothing'}."
        )
    return ",".join(s for s in ApiScope.values if s in names)


@transaction.atomic
def api_key_create(
    *,
    vendor: str,
    billers: list[Biller],
    scopes: list[str] | tuple[str, ...],
    expires_at: datetime | None = None,
    throttle_rate: str = "",
) -> NewKey:
    """Create a key for ``vendor`` on ``billers`` with ``scopes``; return it with the raw key (shown once).

    Raises ValidationError naming the field for an empty vendor, no billers, unknown scopes, a bad rate or
    an expiry in the past.
    """
    if not billers:
        raise ValidationError("billers: a key needs at least one biller.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(f"expires_at: {expires_at.isoformat()} is in the past.")
    while True:
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        if not ApiKey.objects.filter(prefix=raw[:PREFIX_LENGTH]).exists():
            break
    key = ApiKey(
        vendor=vendor.strip(),
        prefix=raw[:PREFIX_LENGTH],
        key_hash=key_hash(raw),
        scopes=_scopes(scopes),
        expires_at=expires_at,
        throttle_rate=throttle_rate,
    )
    key.full_clean()
    key.save()
    key.billers.set(billers)
    return NewKey(key=key, raw=raw)


def api_key_fill_new(key: ApiKey) -> str:
    """Give an unsaved key (admin add form) a fresh secret; return the raw key to show once."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key.prefix, key.key_hash = raw[:PREFIX_LENGTH], key_hash(raw)
    return raw


def api_key_lookup(raw_key: str, *, bid: int | None = None) -> tuple[ApiKey | None, Biller | None]:
    """The key whose hash matches ``raw_key`` (any state) or None, and the biller ``bid`` when the key is
    scoped to it (else None). One query when both are found: the hot path of every biller-scoped call."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 200:
        return None, None
    digest = key_hash(raw_key)
    if bid is not None and 0 < bid <= MAX_BID:
        link = (
            ApiKey.billers.through.objects.select_related("apikey", "biller__partner")
            .filter(apikey__key_hash=digest, biller__bid=bid)
            .order_by()
            .first()
        )
        if link is not None:
            return link.apikey, link.biller
    try:
        return ApiKey.objects.get(key_hash=digest), None
    except ApiKey.DoesNotExist:
        return None, None


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> bool:
    """Revoke ``key`` now; return False when it was already revoked."""
    # Imported here: the cache builds on api_key_lookup from this module.
    from billers.api.key_cache import api_key_cache_clear

    updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    api_key_cache_clear()  # this process refuses the key at once; other workers within the cache's TTL
    return bool(updated)


def api_key_touch_due(key: ApiKey, now: datetime, *, every_seconds: int = 60) -> bool:
    """Whether ``key``'s ``last_used_at`` is due for an update (at most once per ``every_seconds``: the
    hot path stays write-light); when it is, ``key`` holds ``now`` from here on and the caller stores it.
    """
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= every_seconds:
        key.last_used_at = now
        return True
    return False
