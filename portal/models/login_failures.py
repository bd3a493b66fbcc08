"""Failed logins per account, in the database: the account lock-out.

See docs/security.md#login-throttling.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime


class LoginFailure(db.Model):
    """One failed login against an account key (``staff:<e-mail>`` or ``beneficiary:<id>``).

    Kept in the database, not in the rate-limit storage, so that a lock-out holds across
    processes and hosts and never fails open. Rows older than the longest window are purged.
    """

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_account_key_failed_at", "account_key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(300))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
