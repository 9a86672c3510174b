"""Slowing down guessing: growing delays per account and per source address, never a lock.

A hard lock after a few failures hands anyone who knows an officer's phone a switch that keeps the officer
out. Here, past a few failures, each further attempt on the account (or from the address) must wait a delay
that doubles with every failure, up to a few minutes: guessing becomes hopeless while the owner is kept out
for minutes at worst. An attempt inside the delay is refused without checking the password or code, and
says no more than a wrong password does. Failures are counted in SQL (`n = n + 1`), never in Python.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.models import LoginSource, User
from portal.services import audit

MAX_DOUBLINGS = 30  # 2**30 times any sensible first delay is past every cap; keeps timedelta in range


@dataclass(frozen=True)
class Throttle:
    """How much guessing is slowed (README, "Configuration")."""

    free_failures: int = 5  # failures on one account before its attempts must wait
    source_free_failures: int = 20  # from one address: more, since an office shares one address
    first_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=5)
    alert_failures: int = 10  # failures on one account that tell the administrators it is under attack
    memory: timedelta = timedelta(hours=24)  # failures older than this are forgotten

    @classmethod
    def from_config(cls, config: Mapping) -> Throttle:
        return cls(free_failures=config["LOGIN_FREE_FAILURES"],
                   source_free_failures=config["LOGIN_SOURCE_FREE_FAILURES"],
                   first_delay=timedelta(seconds=config["LOGIN_FIRST_DELAY_SECONDS"]),
                   max_delay=timedelta(seconds=config["LOGIN_MAX_DELAY_SECONDS"]),
                   alert_failures=config["LOGIN_ALERT_FAILURES"],
                   memory=timedelta(hours=config["LOGIN_FAILURE_MEMORY_HOURS"]))

    def delay(self, failures: int, free: int) -> timedelta | None:
        """The wait before the next attempt after `failures` failures, or None while they are still free."""
        if failures < free:
            return None
        return min(self.first_delay * 2 ** min(failures - free, MAX_DOUBLINGS), self.max_delay)


def waiting(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


def _counted(count, last_failed_at, cutoff: datetime):
    """count + 1, in SQL; a count whose last failure is older than the memory starts again at 1."""
    return case((or_(last_failed_at.is_(None), last_failed_at >= cutoff), count + 1), else_=1)


def count_account_failure(
    session: Session, user: User, actor: audit.Actor, action: str, throttle: Throttle, now: datetime,
) -> int:
    """Count one failed password or code on the account; start or lengthen its delay past the free failures;
    tell the administrators once a streak reaches the alert level. The caller commits."""
    count = session.execute(
        update(User).where(User.id == user.id)
        .values(failed_logins=_counted(User.failed_logins, User.last_failed_at, now - throttle.memory),
                last_failed_at=now)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    audit.record(session, action, actor, user=user, outcome="failure", detail=f"failures={count}")
    delay = throttle.delay(count, throttle.free_failures)
    if delay is not None:
        until = now + delay
        # Only ever later: of two failures at once, the one with the smaller count must not shorten the wait.
        session.execute(update(User).where(User.id == user.id, or_(User.throttled_until.is_(None),
                                                                   User.throttled_until < until))
                        .values(throttled_until=until).execution_options(synchronize_session=False))
    if count == throttle.alert_failures:
        audit.record(session, "account.under_attack", actor, user=user, object_type="user", object_id=user.id,
                     detail=f"failures={count}")
    session.flush()
    session.expire(user, ["failed_logins", "throttled_until", "last_failed_at"])
    return count


def clear_account(session: Session, user: User) -> None:
    """A success, or an administrator's unlock: the account's failures are forgotten."""
    session.execute(update(User).where(User.id == user.id).values(failed_logins=0, throttled_until=None)
                    .execution_options(synchronize_session=False))
    session.expire(user, ["failed_logins", "throttled_until"])


def source_key(ip: str | None) -> str | None:
    """The address failures are counted against: an IPv4 address, or the /64 network of an IPv6 one (one
    subscriber's share), so that stepping through one's own addresses does not start the count afresh."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def source_waiting(session: Session, ip: str | None, now: datetime) -> bool:
    key = source_key(ip)
    if key is None:
        return False
    until = session.scalar(select(LoginSource.throttled_until).where(LoginSource.address == key))
    return waiting(until, now)


def count_source_failure(session: Session, ip: str | None, throttle: Throttle, now: datetime) -> None:
    """Count one failed sign-in from this address in one statement (insert, or n = n + 1), then start or
    lengthen its delay past the free failures. The caller commits."""
    key = source_key(ip)
    if key is None:  # the command line
        return
    table = LoginSource.__table__
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
    statement = insert.values(address=key, failures=1, last_failed_at=now).on_conflict_do_update(
        index_elements=[table.c.address],
        set_={"failures": _counted(table.c.failures, table.c.last_failed_at, now - throttle.memory),
              "last_failed_at": now},
    ).returning(table.c.failures)
    count = session.execute(statement).scalar_one()
    delay = throttle.delay(count, throttle.source_free_failures)
    if delay is not None:
        until = now + delay
        session.execute(update(table).where(table.c.address == key, or_(table.c.throttled_until.is_(None),
                                                                       table.c.throttled_until < until))
                        .values(throttled_until=until))


def under_attack(session: Session, throttle: Throttle, now: datetime, limit: int = 20, *,
                 among=None) -> list[User]:
    """Accounts with many failures in a row lately, most recent first, for the administrators' notice; `among`, a
    condition on User, keeps those an administrator manages before the list is cut at `limit` (so that accounts
    attacked elsewhere cannot push theirs out of it)."""
    query = select(User).where(User.last_failed_at >= now - throttle.memory,
                               User.failed_logins >= throttle.alert_failures)
    if among is not None:
        query = query.where(among)
    return list(session.scalars(query.order_by(User.last_failed_at.desc()).limit(limit)))


def purge_sources(session: Session, throttle: Throttle, now: datetime) -> int:
    """Forget addresses whose last failure is older than the memory (flask purge)."""
    return session.execute(delete(LoginSource).where(LoginSource.last_failed_at < now - throttle.memory)).rowcount
