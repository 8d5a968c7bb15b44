"""Keys found by ``api_key_lookup`` kept in the worker process for a few seconds.

Every keyed call starts with the key (and the biller in its path): one joined query, about as costly as
the lookup the call is made for. This module remembers what that query answered for
``settings.API_KEY_CACHE_SECONDS`` (default 2 s; 0 turns the memory off), per SHA-256 of the presented
key and per BID, so a busy IVR line queries once per worker every few seconds.

What this means for changes to keys:

- expiry is read from the remembered key on every call, so an expired key is refused at once;
- revocation with ``api_key_revoke`` and any save or delete of a key in this process forget everything
  at once; a change made in another process (the ``api_key`` command, the admin served by another
  worker) takes effect here within ``API_KEY_CACHE_SECONDS``;
- the biller in the path comes along with its key, so an endpoint reads the biller's own fields (time
  zone, batch close time) as they were at most ``API_KEY_CACHE_SECONDS`` ago;
- unknown keys are never remembered (a stream of made-up keys cannot fill the memory), and the memory
  starts afresh when it holds ``MAX_ENTRIES`` answers.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save

from billers.api.keys import api_key_lookup, key_hash
from billers.api_models import ApiKey
from billers.models import Biller

DEFAULT_SECONDS = 2.0
MAX_ENTRIES = 2000

_remembered: dict[tuple[str, int | None], tuple[float, ApiKey, Biller | None]] = {}


def cache_seconds() -> float:
    return float(getattr(settings, "API_KEY_CACHE_SECONDS", DEFAULT_SECONDS))


def api_key_lookup_cached(raw_key: str, *, bid: int | None = None) -> tuple[ApiKey | None, Biller | None]:
    """``api_key_lookup(raw_key, bid=bid)``, answered from memory when asked less than the TTL ago."""
    ttl = cache_seconds()
    if ttl <= 0:
        return api_key_lookup(raw_key, bid=bid)
    slot = (key_hash(raw_key), bid)
    now = time.monotonic()
    entry = _remembered.get(slot)
    if entry is not None and now - entry[0] < ttl:
        return entry[1], entry[2]
    key, biller = api_key_lookup(raw_key, bid=bid)
    if key is None:
        _remembered.pop(slot, None)
        return None, None
    if len(_remembered) >= MAX_ENTRIES:
        _remembered.clear()
    _remembered[slot] = (now, key, biller)
    return key, biller


def api_key_cache_clear(**_signal: object) -> None:
    """Forget every remembered key (a key changed in this process; tests)."""
    _remembered.clear()


post_save.connect(api_key_cache_clear, sender=ApiKey, dispatch_uid="api-key-cache-save")
post_delete.connect(api_key_cache_clear, sender=ApiKey, dispatch_uid="api-key-cache-delete")
m2m_changed.connect(api_key_cache_clear, sender=ApiKey.billers.through, dispatch_uid="api-key-cache-m2m")
