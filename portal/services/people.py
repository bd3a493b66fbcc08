"""Finding beneficiaries at the desk (staff only, limited to their sites)."""

from __future__ import annotations

from sqlalchemy import or_

from portal.extensions import db
from portal.models.people import Beneficiary, StaffMember
from portal.services.codes import normalise_code

MAX_RESULTS = 30


def visible_site_ids(staff: StaffMember) -> list[int] | None:
    """None: every site (network administrators)."""
    return None if staff.is_network_admin else staff.site_ids


def can_see(staff: StaffMember, person: Beneficiary) -> bool:
    sites = visible_site_ids(staff)
    return sites is None or person.home_site_id in sites


def search(staff: StaffMember, text: str) -> list[Beneficiary]:
    """People of the staff member's sites whose name, identifier or phone matches."""
    text = (text or "").strip()[:80]
    query = db.select(Beneficiary).where(Beneficiary.anonymised_at.is_(None))
    sites = visible_site_ids(staff)
    if sites is not None:
        query = query.where(Beneficiary.home_site_id.in_(sites or [-1]))
    if text:
        like = f"%{text.lower().replace('%', '').replace('_', '')}%"
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions = [
            db.func.lower(Beneficiary.first_name + " " + Beneficiary.last_name).like(like),
            db.func.lower(Beneficiary.last_name + " " + Beneficiary.first_name).like(like),
            Beneficiary.login_id == normalise_code(text),
        ]
        if len(digits) >= 4:
            conditions.append(Beneficiary.phone.like(f"%{digits}%"))
        query = query.where(or_(*conditions))
    query = query.order_by(Beneficiary.last_name, Beneficiary.first_name).limit(MAX_RESULTS)
    return list(db.session.scalars(query))
