"""Sites, staff with their roles, beneficiaries."""

from __future__ import annotations

from datetime import timedelta

from portal.benchdata import names
from portal.benchdata.network import Network, SiteInfo
from portal.benchdata.plan import PAST_DAYS
from portal.folding import fold, person_search_key, person_search_text
from portal.models.people import Beneficiary, Site, StaffMember, StaffSiteRole
from portal.models.vocab import Gender, Language, SocialStatus, StaffRole

SITE = Site.__table__
STAFF = StaffMember.__table__
ROLE = StaffSiteRole.__table__
PERSON = Beneficiary.__table__
#: share of people who chose a password (the others come to the desk or have a card).
WITH_PASSWORD = 0.4
OPENING_HOURS = "Du lundi au vendredi : 9 h – 12 h et 14 h – 18 h\nSamedi : 9 h – 12 h"


def write_sites(net: Network) -> None:
    writer = net.writer
    writer.phase("lieux")
    for n in range(net.plan.sites):
        city, postcode = names.COMMUNES[n % len(names.COMMUNES)]
        kind = names.SITE_KINDS[n % len(names.SITE_KINDS)]
        site_id = writer.next_id(SITE)
        code = names.site_code(n)
        name = f"{kind} de {city}" + (f" {n // len(names.COMMUNES) + 1}"
                                      if n >= len(names.COMMUNES) else "")
        writer.add(SITE, {
            "id": site_id, "code": code, "name": name,
            "address": f"{n % 90 + 1} {names.STREETS[n % len(names.STREETS)]}",
            "postcode": postcode, "city": city, "phone": names.landline(n),
            "email": f"{code.lower()}@bench.example.org",
            "opening_hours": OPENING_HOURS,
            "description": "Ateliers pour débuter, aide aux démarches en ligne.",
            "aptic_accreditation": f"APTIC-62-{n + 1:04d}",
            "signatory_name": "", "signatory_role": "Direction",
            "created_at": net.at - timedelta(days=900),
        })
        net.sites.append(SiteInfo(id=site_id, code=code, name=name))


def _staff_row(net: Network, staff_id: int, n: int, admin: bool) -> dict[str, object]:
    rng = net.rng
    female = rng.random() < 0.6
    first, last = names.first_name(rng, female), names.last_name(rng)
    email = f"{fold(first).replace(' ', '')}.{fold(last).replace(' ', '')}.{n}@bench.example.org"
    return {"id": staff_id, "email": email, "full_name": f"{first} {last}",
            "is_network_admin": admin, "password_hash": net.password_hash,
            "password_changed_at": net.at - timedelta(days=300), "is_active": True,
            "preferred_language": Language.FR, "created_at": net.at - timedelta(days=800)}


def write_staff(net: Network) -> None:
    """Per site: a site administrator, two animateurs, a receptionist; then the network's
    administrators."""
    writer = net.writer
    writer.phase("équipe")
    n = 0
    roles = (StaffRole.ADMIN, StaffRole.ANIMATEUR, StaffRole.ANIMATEUR, StaffRole.RECEPTION)
    for site in net.sites:
        for role in roles:
            n += 1
            staff_id = writer.next_id(STAFF)
            writer.add(STAFF, _staff_row(net, staff_id, n, admin=False))
            writer.add(ROLE, {"id": writer.next_id(ROLE), "staff_id": staff_id,
                              "site_id": site.id, "role": role})
            if role is StaffRole.ADMIN:
                site.admin_id = staff_id
            elif role is StaffRole.RECEPTION:
                site.reception_id = staff_id
            else:
                site.animator_ids.append(staff_id)
    for _ in range(2):
        n += 1
        writer.add(STAFF, _staff_row(net, writer.next_id(STAFF), n, admin=True))


BIRTH_AND_STATUS = (  # (oldest, youngest birth year, status, weight)
    (1935, 1960, SocialStatus.RETIRED, 40),
    (1962, 2004, SocialStatus.UNEMPLOYED, 20),
    (1960, 2002, SocialStatus.EMPLOYED, 20),
    (2007, 2014, SocialStatus.STUDENT, 8),
    (1940, 2005, SocialStatus.UNDISCLOSED, 12),
)


def write_beneficiaries(net: Network) -> None:
    """People ``j`` belong to the site ``j % sites``; ids follow ``j`` (see ``person_of_site``);
    all registered before the first session of the year was announced."""
    writer, rng, plan = net.writer, net.rng, net.plan
    writer.phase("bénéficiaires")
    weights = [b[3] for b in BIRTH_AND_STATUS]
    for j in range(plan.beneficiaries):
        person_id = writer.next_id(PERSON)
        if j == 0:
            net.first_person_id = person_id
        site = net.sites[j % plan.sites]
        gender = rng.choices((Gender.FEMALE, Gender.MALE, Gender.UNDISCLOSED), (55, 40, 5))[0]
        first = names.first_name(rng, gender is Gender.FEMALE or
                                 (gender is Gender.UNDISCLOSED and rng.random() < 0.5))
        last = names.last_name(rng)
        oldest, youngest, status, _w = rng.choices(BIRTH_AND_STATUS, weights)[0]
        commune, postcode = names.COMMUNES[(j % plan.sites + rng.randint(0, 2))
                                           % len(names.COMMUNES)]
        has_phone = rng.random() < 0.85
        phone = names.mobile(rng) if has_phone else ""
        email = (f"{fold(first).replace(' ', '')}.{fold(last).replace(' ', '')}{j}@example.org"
                 if rng.random() < 0.55 else "")
        has_password = rng.random() < WITH_PASSWORD
        created = net.at - timedelta(days=PAST_DAYS + rng.randint(40, 700),
                                     minutes=rng.randint(0, 600))
        writer.add(PERSON, {
            "id": person_id, "first_name": first, "last_name": last, "phone": phone,
            "has_no_phone": not has_phone and rng.random() < 0.5, "email": email,
            "birth_year": rng.randint(oldest, youngest) if rng.random() < 0.9 else None,
            "commune": commune, "postcode": postcode, "gender": gender, "social_status": status,
            "login_id": names.unique_code(person_id, 6, salt=104_729),
            "password_hash": net.password_hash if has_password else None,
            "password_changed_at": created if has_password else None,
            "home_site_id": site.id, "created_by_id": site.reception_id,
            "is_active": True, "preferred_language": Language.FR, "created_at": created,
            "search_text": person_search_text(first, last, email, phone),
            "search_key": person_search_key(first, last),
        })
