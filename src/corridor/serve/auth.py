"""Accounts, sessions, CSRF and roles for ``corridor serve``.

- **Passwords** are hashed with argon2id (argon2-cffi's defaults, RFC 9106 low-memory
  profile); only the hash is stored (``users`` table).
- **Sessions** are rows of ``sessions`` with a random id and an expiry; the browser holds the
  id in a cookie signed with itsdangerous (``corridor_session``: HttpOnly, SameSite=Strict,
  ``Secure`` when served beyond loopback). The signature is checked before the table is read,
  and the signed value carries its time, so a cookie older than the session lifetime is refused
  even if the row were still there.
- **CSRF**: each session has its own random token (synchroniser-token pattern); every
  state-changing request (POST, PUT, PATCH, DELETE) must send it in ``X-CSRF-Token``. The login
  request itself has no session yet: it must be ``application/json`` (a cross-site form cannot
  send that without a CORS preflight, which this server never grants) and, when the browser
  sends ``Origin``, come from this server's own origin.
- **Roles**: viewer < analyst < admin. Every route names the least role it needs
  (:func:`require`); the role is checked on the server for every request.
- **Failed logins** are counted per client address and per user name in a sliding window
  (:class:`LoginThrottle`, in memory: one process serves the store, so one counter is the
  truth; a rate-limit library would add a dependency for ten lines) and logged.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from corridor.store import Store, utcnow

log = logging.getLogger("corridor.serve")

COOKIE = "corridor_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD_CHARS = 10

_hasher = PasswordHasher()


class Role(IntEnum):
    """What a user may do: viewers read, analysts also write, admins also manage users."""

    viewer = 1
    analyst = 2
    admin = 3


class AuthError(ValueError):
    """A user name, role or password that cannot be accepted (message says why)."""


@dataclass(frozen=True)
class User:
    username: str
    role: Role


@dataclass(frozen=True)
class Session:
    session_id: str
    user: User
    csrf_token: str


# ----------------------------------------------------------------------------- users
def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_user(username: str, role: str, password: str) -> Role:
    """Validate a new account's fields; returns the role."""
    if not USERNAME_RE.match(username or ""):
        raise AuthError("user name: 1-64 letters, digits, '.', '_' or '-', starting with a letter "
                        "or digit")
    if role not in Role.__members__:
        raise AuthError(f"role {role!r}: choose one of {', '.join(Role.__members__)}")
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise AuthError(f"password: at least {MIN_PASSWORD_CHARS} characters")
    return Role[role]


def add_user(store: Store, username: str, role: str, password: str, *, replace: bool = False) -> User:
    """Create (or with ``replace``, reset) an account. Call with the writing store."""
    r = check_new_user(username, role, password)
    exists = store.one("SELECT count(*) FROM users WHERE username = ?", [username])[0]
    if exists and not replace:
        raise AuthError(f"user {username!r} exists (use --replace to reset the password and role)")
    with store.transaction():
        if exists:
            store.con.execute("UPDATE users SET role = ?, password_hash = ?, disabled = false "
                              "WHERE username = ?", [r.name, hash_password(password), username])
            store.con.execute("UPDATE sessions SET revoked = true WHERE username = ?", [username])
        else:
            store.con.execute("INSERT INTO users (username, role, password_hash, created_at) "
                              "VALUES (?, ?, ?, ?)", [username, r.name, hash_password(password), utcnow()])
    return User(username, r)


def verify_login(store: Store, username: str, password: str) -> User | None:
    """The user if the name and password match an enabled account, else None.

    A wrong name costs one hash verification too, so timing does not tell which names exist.
    """
    row = store.one("SELECT role, password_hash, disabled FROM users WHERE username = ?",
                            [username])
    stored = row[1] if row else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None or row[2]:
        return None
    return User(username, Role[row[0]])


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


# ----------------------------------------------------------------------------- sessions
def cookie_secret(store: Store) -> str:
    """The signing key of session cookies, made once per store (writing store)."""
    row = store.one("SELECT value FROM serve_settings WHERE key = 'cookie_secret'")
    if row:
        return row[0]
    value = secrets.token_urlsafe(48)
    store.con.execute("INSERT INTO serve_settings VALUES ('cookie_secret', ?)", [value])
    return value


class Sessions:
    """Create, look up and end sessions; sign and check the cookie value."""

    def __init__(self, secret: str, lifetime_hours: float):
        self.signer = TimestampSigner(secret, salt="corridor-session")
        self.lifetime = timedelta(hours=lifetime_hours)
        # live sessions already looked up (one query less per request); every write to the
        # sessions or users table goes through this process and calls forget()
        self._cache: dict[str, tuple[Session, object]] = {}
        self._cache_lock = threading.Lock()

    def create(self, store: Store, user: User) -> tuple[str, Session]:
        """A new session row for ``user``; returns (cookie value, session)."""
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        store.con.execute("INSERT INTO sessions (session_id, username, created_at, expires_at, csrf_token) "
                          "VALUES (?, ?, ?, ?, ?)", [sid, user.username, now, now + self.lifetime, csrf])
        return self.signer.sign(sid).decode(), Session(sid, user, csrf)

    def lookup(self, store: Store, cookie: str | None) -> Session | None:
        """The live session a cookie names, or None (bad signature, expired, revoked, disabled)."""
        if not cookie:
            return None
        try:
            sid = self.signer.unsign(cookie, max_age=int(self.lifetime.total_seconds())).decode()
        except (BadSignature, SignatureExpired):
            return None
        now = utcnow()
        hit = self._cache.get(sid)
        if hit is not None and hit[1] > now:
            return hit[0]
        row = store.one(
            "SELECT s.username, u.role, s.csrf_token, s.expires_at FROM sessions s JOIN users u "
            "USING (username) WHERE s.session_id = ? AND NOT s.revoked AND s.expires_at > ? "
            "AND NOT u.disabled", [sid, now])
        if row is None:
            return None
        session = Session(sid, User(row[0], Role[row[1]]), row[2])
        with self._cache_lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[sid] = (session, row[3])
        return session

    def forget(self) -> None:
        """Drop the remembered sessions (after any write to ``sessions`` or ``users``: a
        logout, a disabled account or a changed role takes effect on the next request)."""
        with self._cache_lock:
            self._cache.clear()

    @staticmethod
    def end(store: Store, session_id: str) -> None:
        store.con.execute("UPDATE sessions SET revoked = true WHERE session_id = ?", [session_id])


# ----------------------------------------------------------------------------- throttle
class LoginThrottle:
    """Failed logins per key in the last ``window_s`` seconds; ``max_failures`` blocks the key."""

    def __init__(self, max_failures: int = 5, window_s: float = 300.0):
        self.max_failures = max_failures
        self.window_s = window_s
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after_s(self, *keys: str) -> float:
        """Seconds until the keys may try again (0 if not blocked)."""
        now = time.monotonic()
        with self._lock:
            waits = [q[0] + self.window_s - now for k in keys
                     if len(q := self._recent(k, now)) >= self.max_failures]
        return max(waits, default=0.0)

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)
            if len(self._fails) > 10_000:  # many names tried: forget those with no recent failure
                for k in [k for k in self._fails if not self._recent(k, now)]:
                    del self._fails[k]

    def clear(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)


# ----------------------------------------------------------------------------- dependencies
def current_session(request: Request) -> Session | None:
    """The request's session (from the signed cookie), or None."""
    state = request.app.state
    return state.sessions.lookup(state.db.reader(), request.cookies.get(COOKIE))


def require(role: Role):
    """A FastAPI dependency: the request's session, refused with 401 (no session), 403 (role
    below ``role``) or 403 (a state-changing request without the session's CSRF token)."""

    def dependency(request: Request) -> Session:
        session = current_session(request)
        if session is None:
            raise HTTPException(401, "log in first")
        if request.method in UNSAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                raise HTTPException(403, "missing or wrong CSRF token (reload the page)")
        if session.user.role < role:
            raise HTTPException(403, f"this needs the {role.name} role; you are {session.user.role.name}")
        return session

    dependency.min_role = role  # read by the route walk in the tests
    return Depends(dependency)
