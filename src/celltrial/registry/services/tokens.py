"""API tokens: issued for a username and password, stored as a SHA-256 hash, expiring;
repeated failed logins lock the account for a while (OWASP Authentication Cheat Sheet,
"Account lockout")."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from celltrial.registry.models import ApiToken, LoginLock

TOKEN_LIFETIME = dt.timedelta(hours=12)  # one working day; a new login gives a new token
MAX_FAILURES = 5  # failed logins before the lock (OWASP: a small number such as 5)
LOCK_TIME = dt.timedelta(minutes=15)


class LoginRefused(Exception):
    pass


def _hash(token: str) -> str:
    """One SHA-256, the unique, indexed key of the stored token: a token is 256 random bits
    (secrets.token_urlsafe(32)), so no guess can be tried against its hash and a slow
    password hasher's cost, there to slow guesses of human passwords, would only slow every
    request (security.stackexchange.com/q/151257: "SHA256 is good enough")."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(username: str, password: str) -> tuple[str, dt.datetime]:
    now = dt.datetime.now()
    lock = LoginLock.objects.filter(username=username).first()
    if lock and lock.locked_until and lock.locked_until > now:
        raise LoginRefused("too many failed logins: the account is locked for a while")
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        record_failed_login(username, now)
        raise LoginRefused("wrong username or password")
    LoginLock.objects.filter(username=username).delete()
    token = secrets.token_urlsafe(32)
    expires = now + TOKEN_LIFETIME
    ApiToken.objects.create(user=user, key_hash=_hash(token), created_at=now, expires_at=expires)
    return token, expires


def record_failed_login(username: str, now: dt.datetime | None = None) -> None:
    """Count one failed login (the API's and the pages'); the fifth locks the account."""
    now = now or dt.datetime.now()
    with transaction.atomic():
        lock, _ = LoginLock.objects.select_for_update().get_or_create(username=username)
        lock.failures += 1
        if lock.failures >= MAX_FAILURES:
            lock.locked_until, lock.failures = now + LOCK_TIME, 0
        lock.save()


def user_for_token(token: str) -> AbstractBaseUser | None:
    found = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(token), expires_at__gt=dt.datetime.now())
        .first()
    )
    if found is None or not found.user.is_active:
        return None
    return found.user
