"""APTIC cheque programmes (one a year) and cheques: redeemed ones paying a service (see
docs/domain.md#cheque-redemption: whole cheques, one service, once), unused ones handed out."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from portal.benchdata.network import Network
from portal.clock import PARIS
from portal.models.vouchers import Cheque, ChequeProgramme

PROGRAMME = ChequeProgramme.__table__
CHEQUE = Cheque.__table__
FACE_VALUE = 1000


def programme_of(net: Network, year: int) -> int:
    """The programme of cheques valid until 31/12 of ``year`` (created on first use)."""
    if year not in net.programmes:
        writer = net.writer
        programme_id = writer.next_id(PROGRAMME)
        writer.add(PROGRAMME, {
            "id": programme_id, "name": f"Pass Numérique APTIC – Pas-de-Calais {year}",
            "issuer": "Département du Pas-de-Calais", "operator": "APTIC",
            "face_value_cents": FACE_VALUE, "number_pattern": r"[0-9A-Z]{6,30}",
            "validity_end": date(year, 12, 31), "grace_days": 31, "is_active": True,
            "created_at": datetime(year - 1, 12, 1, tzinfo=PARIS),
        })
        net.programmes[year] = (programme_id, 0)
    return net.programmes[year][0]


def _number(net: Network, year: int) -> tuple[int, str]:
    programme_id = programme_of(net, year)
    serial = net.programmes[year][1] + 1
    net.programmes[year] = (programme_id, serial)
    return programme_id, f"62{year % 100:02d}{serial:08d}"


def redeem(net: Network, count: int, at: datetime, *, site_id: int, staff_id: int | None,
           receipt_id: int | None, booking_id: int | None = None,
           accompaniment_id: int | None = None) -> None:
    """``count`` cheques of the year of ``at`` (valid then) paying one service."""
    year = at.astimezone(PARIS).year
    for _ in range(count):
        programme_id, number = _number(net, year)
        net.writer.add(CHEQUE, {
            "id": net.writer.next_id(CHEQUE), "programme_id": programme_id, "number": number,
            "value_cents": FACE_VALUE, "registered_at": at, "redeemed_at": at,
            "redeemed_by_id": staff_id, "site_id": site_id, "booking_id": booking_id,
            "accompaniment_id": accompaniment_id, "receipt_id": receipt_id,
        })


def write_unused(net: Network) -> None:
    """Cheques of this year's programme recorded at intake, not redeemed yet."""
    writer, rng = net.writer, net.rng
    writer.phase("chèques non utilisés")
    year = net.today.year
    for n in range(net.plan.cheques_unused):
        programme_id, number = _number(net, year)
        registered = net.at - timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 500))
        writer.add(CHEQUE, {
            "id": writer.next_id(CHEQUE), "programme_id": programme_id, "number": number,
            "value_cents": FACE_VALUE, "registered_at": registered, "redeemed_at": None,
            "redeemed_by_id": None, "site_id": net.sites[n % len(net.sites)].id,
            "booking_id": None, "accompaniment_id": None, "receipt_id": None,
        })
