"""Individual help (accompaniments) of the past months: most for a named person of the site,
some for someone unnamed (then only the few attributes the national model allows); a few paid
with a cheque, with its receipt."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from portal.benchdata import documents, vouchers
from portal.benchdata.network import Network
from portal.benchdata.plan import PAST_DAYS
from portal.clock import paris_to_utc
from portal.models.bookings import Accompaniment, AccompanimentSubtheme, AccompanimentTheme
from portal.models.vocab import (
    AGE_BRACKETS,
    AdminSubtheme,
    Autonomy,
    DocumentKind,
    Equipment,
    Gender,
    PlaceType,
    SocialStatus,
    Theme,
)

HELP = Accompaniment.__table__
HELP_THEME = AccompanimentTheme.__table__
HELP_SUBTHEME = AccompanimentSubtheme.__table__
SUMMARIES = {
    Theme.ADMIN_PROCEDURES: "Aide à une démarche en ligne",
    Theme.EMAIL: "Récupération du mot de passe de la messagerie",
    Theme.EQUIPMENT_HANDLING: "Réglages du smartphone",
    Theme.HEALTH: "Ouverture du compte Ameli",
    Theme.EMPLOYMENT: "Candidature en ligne",
    Theme.SECURITY: "Message frauduleux reçu : que faire",
}
THEMES = tuple(SUMMARIES)
SUBTHEMES = tuple(AdminSubtheme)
UNNAMED = 0.2
PAID = 0.05


def write_accompaniments(net: Network) -> None:
    writer, rng, plan = net.writer, net.rng, net.plan
    writer.phase("accompagnements individuels")
    days = [net.today - timedelta(days=d) for d in range(PAST_DAYS, 0, -1)]
    days = [day for day in days if day.weekday() != 6]
    for n in range(plan.accompaniments):
        day = days[n * len(days) // plan.accompaniments]
        site_index = n % plan.sites
        site = net.sites[site_index]
        started = paris_to_utc(datetime.combine(day, time(9 + n % 8, rng.choice((0, 15, 30)))))
        minutes = rng.choice((15, 20, 30, 45, 60, 90))
        theme = rng.choice(THEMES)
        named = rng.random() >= UNNAMED
        person_id = net.person_of_site(site_index)(1)[0] if named else None
        staff_id = site.animator_ids[n % len(site.animator_ids)]
        help_id = writer.next_id(HELP)
        writer.add(HELP, {
            "id": help_id, "site_id": site.id, "staff_id": staff_id, "beneficiary_id": person_id,
            "started_at": started, "duration_minutes": minutes,
            "place_type": rng.choices(tuple(PlaceType), (85, 5, 7, 3))[0],
            "equipment": rng.choice((Equipment.COMPUTER, Equipment.PHONE, Equipment.TABLET)),
            "autonomy": rng.choice(tuple(Autonomy)), "summary": SUMMARIES[theme], "notes": "",
            "created_at": started + timedelta(minutes=minutes),
            "gender": None if named else rng.choice(tuple(Gender)),
            "age_bracket": None if named else rng.choice(AGE_BRACKETS)[2],
            "social_status": None if named else rng.choice(tuple(SocialStatus)),
            "commune": None, "postcode": None, "referred": False, "referred_to": "",
            "updated_at": None,
        })
        writer.add(HELP_THEME, {"id": writer.next_id(HELP_THEME), "accompaniment_id": help_id,
                                "theme": theme})
        if theme is Theme.ADMIN_PROCEDURES:
            writer.add(HELP_SUBTHEME, {"id": writer.next_id(HELP_SUBTHEME),
                                       "accompaniment_id": help_id,
                                       "subtheme": rng.choice(SUBTHEMES)})
        if named and rng.random() < PAID:
            taken = started + timedelta(minutes=minutes)
            receipt = documents.issue(net, DocumentKind.RECEIPT, site, taken,
                                      subject=SUMMARIES[theme], staff_id=staff_id,
                                      beneficiary_id=person_id, extra={"cheques": 1})
            vouchers.redeem(net, 1, taken, site_id=site.id, staff_id=staff_id,
                            receipt_id=receipt, accompaniment_id=help_id)
