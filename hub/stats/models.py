"""Pre-aggregated totals the public statistics read instead of scanning every record."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId


class ContributionMonth(Base):
    """What one organisation delivered in one category in one month (`YYYY-MM`).

    Exact at every commit: the triggers of migration 0011 change it in the same statement
    as every insert, update or delete of `contributions`. The month is that of
    `delivered_on`; the current month is read from the contributions themselves (a short
    index range), since only deliveries up to today count.
    """

    __tablename__ = "contribution_months"

    organization_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    category_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    amount_rupiah: Mapped[int] = mapped_column(BigInteger)
    contributions: Mapped[int] = mapped_column(BigInteger)
