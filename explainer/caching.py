"""A cache is a cache: reader pages use it through ``guarded_cache``, so a Redis that is
down or stops answering costs a request at most the client's socket timeout
(``CACHE_TIMEOUT_SECONDS``), and then nothing for ``CACHE_RETRY_SECONDS``: every read is a
miss, every write is dropped, and the page is built from the database."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.signals import setting_changed
from django.dispatch import receiver

logger = logging.getLogger(__name__)

# Per cache alias: until when (time.monotonic()) the cache is left alone after a failure.
# Shared by the process's threads; a race only means one more attempt.
_skip_until: dict[str, float] = {}


class GuardedCache:
    """The reads and writes reader pages make, on the cache at ``alias``, never raising."""

    def __init__(self, alias: str = DEFAULT_CACHE_ALIAS):
        self.alias = alias

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version=version, missing=default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        self._call("set", key, value, timeout, version=version, missing=None)

    def _call(self, method: str, *args, missing, **kwargs):
        if time.monotonic() < _skip_until.get(self.alias, 0.0):
            return missing
        try:
            return getattr(caches[self.alias], method)(*args, **kwargs)
        except Exception as error:  # whatever the backend raises, the page goes on without it
            # One warning per outage window, not one per request.
            _skip_until[self.alias] = time.monotonic() + settings.CACHE_RETRY_SECONDS
            logger.warning(
                "Cache %r failed (%s: %s); not using it for %s s",
                self.alias,
                type(error).__name__,
                error,
                settings.CACHE_RETRY_SECONDS,
            )
            return missing


guarded_cache = GuardedCache()


@receiver(setting_changed)
def forget_failures(*, setting, **kwargs):
    # A different cache configuration (tests change it) starts out trusted.
    if setting == "CACHES":
        _skip_until.clear()
