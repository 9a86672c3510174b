"""Accounts of every role, with the security state that belongs to them."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fieldcrypt import new_row_key, sealed
from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.jurisdiction import Beat, Bureau, Station


class Role(enum.StrEnum):
    landlord = "landlord"
    employer = "employer"
    officer = "officer"
    clerk = "clerk"
    admin = "admin"
    auditor = "auditor"

    @property
    def is_staff(self) -> bool:
        """Staff log in with a second factor and have shorter idle timeouts."""
        return self in (Role.officer, Role.clerk, Role.admin, Role.auditor)


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role != 'officer' OR station_id IS NOT NULL OR beat_id IS NOT NULL OR bureau_id IS NOT NULL",
            name="officer_has_jurisdiction"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    id_number_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number = sealed("id_number_sealed")
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    beat_id: Mapped[int | None] = mapped_column(ForeignKey("beat.id"), index=True)
    # An address clerk's bureau (services/address_upkeep.clerk_bureau; a clerk given a station or beat instead
    # keeps the addresses of that one's bureau).
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureau.id"), index=True)

    # The second factor's secret, encrypted (fieldcrypt.py); row_key binds its ciphertext to this row.
    row_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_row_key)
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_secret = sealed("totp_secret_sealed")
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last accepted TOTP time step: a code is accepted only for a later step (no replay).
    last_totp_step: Mapped[int | None] = mapped_column(Integer)
    # Failed password and code attempts since the last success (services.auth.Throttle): past a few, each
    # further attempt must wait until throttled_until, a delay that doubles with every failure, capped.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    throttled_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Bumped on logout, password or 2FA change and disable: every older session cookie dies.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    station: Mapped[Station | None] = relationship()
    beat: Mapped[Beat | None] = relationship()
    bureau: Mapped[Bureau | None] = relationship()

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class LoginSource(Base):
    """Failed sign-in attempts from one source address (an IPv6 address counts by its /64), throttled as an
    account is: guessing many accounts from one place slows down too."""

    __tablename__ = "login_source"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    throttled_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
