"""What foundations delivered: one contribution per fulfilled need, and a few gifts without one."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from random import Random

from hub.synthetic.clock import ACTIVITY_WINDOW, DAY, seconds_before
from hub.synthetic.draw import Weighted, chance
from hub.synthetic.organizations import Foundations
from hub.synthetic.people import Family
from hub.synthetic.rows import Row

CONTRIBUTION_COLUMNS = (
    "id", "need_id", "citizen_id", "organization_id", "category_code", "kind", "amount_rupiah",
    "quantity", "unit", "delivered_on", "evidence_sha256", "idempotency_key", "kecamatan_code",
    "created_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Offer:
    """A kind of help: what is given, in which unit, and what it is worth."""

    kind: str
    unit: str | None
    quantity: tuple[int, int]
    #: Rupiah per unit (or for the whole, when there is no unit), in thousands.
    price: tuple[int, int]


def _offers(*pairs: tuple[Offer, float]) -> Weighted[Offer]:
    """A weighted choice of offers."""
    return Weighted(list(pairs))


_CASH = Offer("CASH", None, (1, 1), (100, 5_000))
OFFERS: dict[str, Weighted[Offer]] = {
    "FOOD": _offers((Offer("IN_KIND", "paket", (1, 3), (150, 350)), 45.0),
                    (Offer("IN_KIND", "kg", (10, 50), (12, 15)), 35.0),
                    (Offer("CASH", None, (1, 1), (200, 1_000)), 20.0)),
    "EDUCATION": _offers((Offer("IN_KIND", "stel", (1, 3), (120, 250)), 35.0),
                         (Offer("IN_KIND", "paket", (1, 2), (100, 300)), 20.0),
                         (Offer("CASH", None, (1, 1), (300, 3_000)), 45.0)),
    "HEALTH": _offers((Offer("SERVICE", "kali", (1, 6), (50, 200)), 45.0),
                      (Offer("IN_KIND", "paket", (1, 3), (100, 500)), 20.0), (_CASH, 35.0)),
    "HOUSING": _offers((Offer("IN_KIND", "sak", (10, 40), (60, 75)), 50.0),
                       (Offer("SERVICE", "hari", (3, 14), (120, 180)), 20.0), (_CASH, 30.0)),
    "REHABILITATION": _offers((Offer("IN_KIND", "unit", (1, 1), (900, 3_500)), 40.0),
                              (Offer("SERVICE", "sesi", (4, 12), (100, 250)), 60.0)),
    "PROTECTION": _offers((Offer("SERVICE", "sesi", (2, 8), (0, 150)), 85.0),
                          (Offer("CASH", None, (1, 1), (200, 1_500)), 15.0)),
    "EMPOWERMENT": _offers((Offer("CASH", None, (1, 1), (500, 5_000)), 55.0),
                           (Offer("IN_KIND", "unit", (1, 1), (1_500, 4_000)), 25.0),
                           (Offer("SERVICE", "sesi", (4, 10), (50, 150)), 20.0)),
    "CIVIL_DOCUMENTS": _offers((Offer("SERVICE", "dokumen", (1, 3), (0, 50)), 100.0)),
}  # fmt: skip


class ContributionMaker:
    """Builds contribution rows with ids handed out in order."""

    def __init__(self, rng: Random, seed: int, first_id: int, foundations: Foundations) -> None:
        """A maker drawing from `rng`; `seed` goes into the evidence digests."""
        self.rng = rng
        self.seed = seed
        self.next_id = first_id
        self.foundations = foundations

    def deliver(
        self,
        rows: list[Row],
        *,
        need_id: int | None,
        citizen_id: int,
        organization_id: int,
        category: str,
        kecamatan: str,
        delivered: dt.datetime,
    ) -> None:
        """Append one contribution of `category` delivered at `delivered`."""
        rng = self.rng
        offer = OFFERS[category].pick(rng)
        quantity = rng.randint(*offer.quantity)
        amount = quantity * rng.randint(*offer.price) * 1_000
        contribution_id = self.next_id
        self.next_id += 1
        evidence = hashlib.sha256(
            f"synthetic-bandung:{self.seed}:contribution:{contribution_id}".encode()
        ).hexdigest()
        rows.append(
            (contribution_id, need_id, citizen_id, organization_id, category, offer.kind, amount,
             quantity if offer.unit else None, offer.unit, delivered.date(), evidence,
             f"seed-{contribution_id}", kecamatan, delivered)
        )  # fmt: skip

    def maybe_gift(self, family: Family, rows: list[Row]) -> None:
        """Sometimes a foundation helps a poor family member without a recorded need."""
        rng = self.rng
        if family.decile > 3 or not chance(rng, 0.01):
            return
        kecamatan = family.kelurahan.kecamatan_code
        organization = self.foundations.index.near(rng, kecamatan)
        domains = self.foundations.domains.get(organization) or ("FOOD",)
        self.deliver(
            rows,
            need_id=None,
            citizen_id=rng.choice(family.members).id,
            organization_id=organization,
            category=rng.choice(domains),
            kecamatan=kecamatan,
            delivered=seconds_before(rng.randint(DAY, ACTIVITY_WINDOW)),
        )
