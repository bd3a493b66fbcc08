"""What every family of tables needs to know of the network being built: ids of sites, staff
and workshops, pools of people, the document counters, the clock and the random source."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from portal.benchdata.plan import PAST_DAYS, Plan
from portal.benchdata.writer import Writer
from portal.clock import PARIS
from portal.models.vocab import DOCUMENT_PREFIX, DocumentKind

#: one tiny valid PDF shared by every generated document (rendering a million PDFs would
#: measure WeasyPrint, not the portal); its hash is the one stored with each row.
PLACEHOLDER_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
PLACEHOLDER_SHA256 = hashlib.sha256(PLACEHOLDER_PDF).hexdigest()


@dataclass
class SiteInfo:
    id: int
    code: str
    name: str
    admin_id: int = 0
    reception_id: int = 0
    animator_ids: list[int] = field(default_factory=list)
    workshop_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class WorkshopInfo:
    id: int
    title: str
    minutes: int
    price: int
    attestation: bool
    capacity: int


@dataclass
class Network:
    plan: Plan
    rng: random.Random
    at: datetime
    writer: Writer
    password_hash: str
    sites: list[SiteInfo] = field(default_factory=list)
    workshops: dict[int, WorkshopInfo] = field(default_factory=dict)
    network_workshop_ids: list[int] = field(default_factory=list)
    first_person_id: int = 0
    #: last document number given per (site id, kind, year): gap-free by construction.
    counters: dict[tuple[int, DocumentKind, int], int] = field(default_factory=dict)
    #: cheque programme id and last serial per year of validity.
    programmes: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: where each site's walk through its people stands (``upcoming_people``).
    cursors: dict[int, int] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.at.astimezone(PARIS).date()

    @property
    def window_start(self) -> date:
        return self.today - timedelta(days=PAST_DAYS)

    def person_of_site(self, site_index: int) -> Callable[[int], list[int]]:
        """Draw ``k`` distinct people of a site's pool (people ``j`` with ``j % sites`` equal
        to the site's index), without building the pool."""
        sites = self.plan.sites
        start = self.first_person_id + site_index
        stop = self.first_person_id + self.plan.beneficiaries
        return lambda k: self.rng.sample(range(start, stop, sites), k)

    def upcoming_people(self, site_index: int, k: int) -> list[int]:
        """``k`` distinct people of a site's pool for an upcoming session: the pool is walked
        in a scrambled order, one session after the other, so nobody holds more upcoming
        bookings than the pool's turns (about two at any scale, under a site's limit of 5)."""
        sites = self.plan.sites
        size = len(range(site_index, self.plan.beneficiaries, sites))
        step = next(p for p in (7_919, 104_729, 1_299_709) if math.gcd(p, size) == 1)
        cursor = self.cursors.get(site_index, 0)
        self.cursors[site_index] = cursor + k
        return [self.first_person_id + site_index + sites * ((step * (cursor + i)) % size)
                for i in range(k)]

    def next_number(self, site: SiteInfo, kind: DocumentKind, year: int) -> tuple[int, str]:
        key = (site.id, kind, year)
        value = self.counters.get(key, 0) + 1
        self.counters[key] = value
        return value, f"{DOCUMENT_PREFIX[kind]}-{year}-{site.code}-{value:06d}"
