"""Login throttling.

Design (issue 7, item 4):

- **Who is the client.** ``client_ip`` takes ``REMOTE_ADDR``; only when that address is
  one of ``KEPU_TRUSTED_PROXIES`` (addresses or networks, e.g. the nginx in front) is
  ``X-Forwarded-For`` read, from the right: the first hop that is not a trusted proxy
  is the client.  A client cannot choose its address by sending the header itself.
- **Three counters per attempt**, each one row (``LoginCounter``) with a fixed window
  (``KEPU_LOGIN_WINDOW_SECONDS``, default 15 minutes) that starts at its first failure:
  ``ip:A`` (one address, all accounts), ``user:U`` (one account, all addresses) and
  ``pair:U|A``.  With N = ``KEPU_LOGIN_MAX_FAILURES`` (default 5) an attempt is refused,
  without checking the password, when

  1. the address has N × ``KEPU_LOGIN_ADDRESS_FACTOR`` (default 4, so 20) failures: a
     flood from one address blocks that address, for every account, and nobody else;
  2. this address has N failures on this account;
  3. the account has N failures (from any addresses) *and* this address has failed on
     it at least once.  An address that has never failed on the account still gets its
     password checked, so a flood against an account (even from many addresses) does not
     lock its owner out; each further address gets one try before it is refused too.

- **Atomic.** An attempt is counted as a failure *before* the password is checked, in one
  transaction that locks the three rows (``select_for_update``; on SQLite the write
  transaction is taken at BEGIN, ``transaction_mode=IMMEDIATE``).  Thirty parallel
  attempts therefore see 0, 1, 2, … failures and only the first N are checked.  A
  successful sign-in gives the count back: the account's and the pair's counters are
  cleared and the address's is decreased by one.
- Sign-ins and failures (refused ones included) are written to the audit log by the
  receivers in kepu.core.signals.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone

from kepu.core.models import LoginCounter

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def trusted_proxies() -> tuple[Network, ...]:
    value = getattr(settings, "KEPU_TRUSTED_PROXIES", ())
    if isinstance(value, str):
        value = value.split(",")
    return _networks(tuple(value))


def _parse(addr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(addr.strip())
    except ValueError:
        return None


def _is_trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(addr in net for net in trusted_proxies())


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind a trusted proxy the rightmost
    X-Forwarded-For hop that is not itself a trusted proxy."""
    remote = _parse(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    if not _is_trusted(remote):
        return str(remote)
    client = remote
    hops = (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")
    for hop in reversed([h for h in hops if h.strip()]):
        addr = _parse(hop)
        if addr is None:  # garbage in the header: stop at the last good hop
            break
        client = addr
        if not _is_trusted(addr):
            break
    return str(client)


@dataclass(frozen=True)
class Attempt:
    username: str
    ip: str | None
    user_key: str
    pair_key: str
    ip_key: str | None

    @property
    def keys(self) -> list[str]:
        return sorted(k for k in (self.user_key, self.pair_key, self.ip_key) if k)


def _attempt(username: str, ip: str | None) -> Attempt:
    name = username.strip().lower()[:150]
    return Attempt(
        username=username,
        ip=ip,
        user_key=f"user:{name}",
        pair_key=f"pair:{name}|{ip or '-'}",
        ip_key=f"ip:{ip}" if ip else None,
    )


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.KEPU_LOGIN_WINDOW_SECONDS)


def lock_minutes() -> int:
    return max(1, settings.KEPU_LOGIN_WINDOW_SECONDS // 60)


def _retrying(fn):
    """Run ``fn`` again when SQLite reports a lock instead of waiting for it (its
    shared-cache in-memory databases do; file databases wait ``timeout`` seconds)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.002, 0.03))


def attempt_begin(*, username: str, ip: str | None) -> Attempt | None:
    """Count a sign-in attempt before the password is checked.

    Returns the attempt (go on and check the password), or None when it is refused.
    """
    attempt = _attempt(username, ip)
    limit = settings.KEPU_LOGIN_MAX_FAILURES
    address_limit = limit * getattr(settings, "KEPU_LOGIN_ADDRESS_FACTOR", 4)

    def run() -> bool:
        now = timezone.now()
        with transaction.atomic():
            LoginCounter.objects.bulk_create(
                [LoginCounter(key=k, failures=0, window_start=now) for k in attempt.keys],
                ignore_conflicts=True,
            )
            rows = {
                r.key: r
                for r in LoginCounter.objects.select_for_update()
                .filter(key__in=attempt.keys)
                .order_by("key")
            }
            for r in rows.values():
                if r.window_start <= now - _window():
                    r.failures, r.window_start = 0, now
            per_user = rows[attempt.user_key].failures
            per_pair = rows[attempt.pair_key].failures
            per_ip = rows[attempt.ip_key].failures if attempt.ip_key else 0
            refused = (
                per_ip >= address_limit
                or per_pair >= limit
                or (per_user >= limit and per_pair >= 1)
            )
            if not refused:
                for r in rows.values():
                    if r.failures == 0:
                        r.window_start = now
                    r.failures += 1
            LoginCounter.objects.bulk_update(rows.values(), ["failures", "window_start"])
        return refused

    refused = _retrying(run)
    return None if refused else attempt


def attempt_succeeded(attempt: Attempt) -> None:
    """The password was right: give back what ``attempt_begin`` counted."""

    def run() -> None:
        with transaction.atomic():
            LoginCounter.objects.filter(key__in=[attempt.user_key, attempt.pair_key]).delete()
            if attempt.ip_key:
                LoginCounter.objects.filter(key=attempt.ip_key).update(
                    failures=Greatest(F("failures") - 1, 0)
                )
            LoginCounter.objects.filter(window_start__lt=timezone.now() - 2 * _window()).delete()

    _retrying(run)
