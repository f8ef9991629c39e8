"""Who may do what: users with argon2 password hashes, sessions, CSRF tokens, roles and scopes,
login throttling and the audit log. Every route goes through `require(...)` — nothing is only hidden.

Roles: admin (everything), reviewer (reads and reviews the reports of one region and the regions
under it), author (the reports of one body). A scope is the region as `gongkai list --region` takes
it (41, 河南, 南阳市) or the body's name.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from gongkai.store.query import Filters
from gongkai.store.schema import audit, login_attempts, reports, sessions, users

ROLES = {"admin": "管理员", "reviewer": "审核人员", "author": "填报人员"}
SESSION_COOKIE = "gongkai_session"
SESSION_HOURS = 12
# Throttling: this many failed log-ins for one user name (or from one address) within the window
# lock further attempts until the window has passed.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)

# argon2id with the library's defaults (RFC 9106's low-memory profile); tests swap in a cheaper one.
_hasher = PasswordHasher()
# Each hash takes 64 MiB and a good part of a second: a burst of log-ins (or an attack on the form)
# waits its turn instead of exhausting the server's memory.
_hashing = threading.BoundedSemaphore(2)


class AuthError(Exception):
    """Refused: status 401 (no session), 403 (not allowed) or 429 (throttled); the message is for people."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    scope: str | None
    csrf: str = ""

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, self.role)

    def filters(self, **given: Any) -> ScopedFilters:
        """The report filters a person gave, narrowed to what this user may see."""
        return ScopedFilters(**given, scope_region=self.scope if self.role == "reviewer" else None,
                             scope_agency=self.scope if self.role == "author" else None)


@dataclass
class ScopedFilters(Filters):
    """Filters plus the user's scope: a second region (reviewer) or the one body (author). A dataclass
    like Filters, so that a copy (dataclasses.replace) keeps the scope; its repr, every field, is
    the stats' cache key."""

    scope_region: str | None = None
    scope_agency: str | None = None

    @property
    def active(self) -> bool:
        return super().active or bool(self.scope_region or self.scope_agency)

    def apply(self, query: Any) -> Any:
        query = super().apply(query)
        if self.scope_region:
            query = Filters(region=self.scope_region).apply(query)
        if self.scope_agency:
            query = query.where(reports.c.agency == self.scope_agency)
        return query


def now() -> datetime:
    return datetime.now(UTC)


def _naive(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes (UTC as stored); compare like with like.
    return moment.replace(tzinfo=None) if moment.tzinfo else moment


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < 8:
        raise AuthError(400, "密码至少 8 个字符")


def add_user(conn: Connection, username: str, password: str, role: str, scope: str | None = None) -> int:
    username = username.strip()
    if not username or len(username) > 64:
        raise AuthError(400, "用户名不能为空，且不超过 64 个字符")
    if role not in ROLES:
        raise AuthError(400, f"未知角色：{role}")
    if role != "admin" and not (scope or "").strip():
        raise AuthError(400, "审核人员须指定地区，填报人员须指定单位")
    check_password_strength(password)
    if conn.scalar(select(users.c.id).where(users.c.username == username)) is not None:
        raise AuthError(400, f"用户名已存在：{username}")
    return conn.execute(insert(users).values(
        username=username, password_hash=hash_password(password), role=role,
        scope=(scope or "").strip() or None if role != "admin" else None, active=True, created_at=now(),
    )).inserted_primary_key[0]


def has_users(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(users)) > 0


def ensure_admin(engine: Engine, password: str, username: str = "admin") -> bool:
    """Create the administrator on first start; False when users exist already (nothing changes)."""
    with engine.begin() as conn:
        if conn.scalar(select(func.count()).select_from(users)):
            return False
        user_id = add_user(conn, username, password, "admin")
        record(conn, None, "user.create", f"user:{user_id}", {"username": username, "role": "admin", "first_start": True})
    return True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _throttled(conn: Connection, username: str, address: str) -> bool:
    since = now() - FAILURE_WINDOW
    for column, value in ((login_attempts.c.username, username), (login_attempts.c.address, address)):
        count = conn.scalar(select(func.count()).select_from(login_attempts)
                            .where(column == value, login_attempts.c.at >= since))
        if count >= MAX_FAILURES * (4 if column is login_attempts.c.address else 1):
            return True
    return False


def _verify(engine: Engine, username: str, password: str) -> Any:
    """The user row when the password is theirs, else None (the same work whether or not the name exists)."""
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username, users.c.active.is_(True))).first()
    with _hashing:
        if row is None:
            _hasher.hash(password)
            return None
        try:
            return row if _hasher.verify(row.password_hash, password) else None
        except (VerificationError, InvalidHashError):
            return None


def log_in(engine: Engine, username: str, password: str, address: str) -> str:
    """A new session token for the cookie; AuthError 401 (wrong) or 429 (too many failures)."""
    username = username.strip()[:64]
    with engine.connect() as conn:
        if _throttled(conn, username, address):
            raise AuthError(429, "登录失败次数过多，请 15 分钟后再试")
    row = _verify(engine, username, password)
    with engine.begin() as conn:
        if row is None:
            conn.execute(insert(login_attempts).values(username=username, address=address[:64], at=now()))
            record(conn, None, "login.failed", f"user:{username}", {"address": address})
        else:
            conn.execute(delete(login_attempts).where(login_attempts.c.username == username))
            token = secrets.token_urlsafe(32)
            conn.execute(insert(sessions).values(token_hash=_token_hash(token), user_id=row.id, csrf=secrets.token_urlsafe(32),
                                                 created_at=now(), expires_at=now() + timedelta(hours=SESSION_HOURS)))
            conn.execute(delete(sessions).where(sessions.c.expires_at < now()))
            record(conn, User(row.id, row.username, row.role, row.scope), "login", f"user:{row.id}", {"address": address})
    if row is None:
        raise AuthError(401, "用户名或密码错误")
    return token


def log_out(engine: Engine, token: str, user: User) -> None:
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))
        record(conn, user, "logout", f"user:{user.id}")


def session_user(engine: Engine, token: str | None) -> User | None:
    if not token:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(users.c.id, users.c.username, users.c.role, users.c.scope, sessions.c.csrf,
                                  sessions.c.expires_at)
                           .join(sessions, sessions.c.user_id == users.c.id)
                           .where(sessions.c.token_hash == _token_hash(token), users.c.active.is_(True))).first()
    if row is None or _naive(row.expires_at) < _naive(now()):
        return None
    return User(row.id, row.username, row.role, row.scope, row.csrf)


def check_csrf(user: User, token: str | None) -> None:
    if not token or not secrets.compare_digest(token, user.csrf):
        raise AuthError(403, "请求缺少有效的 CSRF 令牌，请刷新页面后重试")


def require(user: User | None, *roles: str) -> User:
    """The user, if logged in and of one of the roles (any role when none are named)."""
    if user is None:
        raise AuthError(401, "请先登录")
    if roles and user.role not in roles:
        raise AuthError(403, f"{user.role_name}无权进行此操作")
    return user


def can_see(conn: Connection, user: User, report_id: int) -> bool:
    query = user.filters().apply(select(reports.c.id).where(reports.c.id == report_id))
    return conn.scalar(query) is not None


def require_report(conn: Connection, user: User, report_id: int) -> None:
    """403 for a report outside the user's scope, and 404 for none at all: both say no more than that."""
    if conn.scalar(select(reports.c.id).where(reports.c.id == report_id)) is None:
        raise AuthError(404, "没有这份报告")
    if not can_see(conn, user, report_id):
        raise AuthError(403, "这份报告不在您的权限范围内")


def record(conn: Connection, user: User | None, action: str, target: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """One line of the audit log, in the transaction of the write it records."""
    conn.execute(insert(audit).values(at=now(), user_id=user.id if user else None, username=user.username if user else None,
                                      action=action, target=target, detail=detail))


def set_active(conn: Connection, user_id: int, active: bool) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(active=active))
    if not active:
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
