"""Workshops and their themes: the demonstration's catalogue, offered by the whole network and
again by each site (the same titles the demo shows, so searches find believable words)."""

from __future__ import annotations

from datetime import timedelta

from portal.benchdata.network import Network, WorkshopInfo
from portal.demo import WORKSHOPS, WorkshopSpec
from portal.folding import searchable
from portal.models.catalogue import Workshop, WorkshopSubtheme, WorkshopTheme
from portal.models.vocab import WorkshopKind

WORKSHOP = Workshop.__table__
THEME = WorkshopTheme.__table__
SUBTHEME = WorkshopSubtheme.__table__
#: workshops each site offers of its own, besides the network's.
OWN_WORKSHOPS = 4


def _workshop(net: Network, spec: WorkshopSpec, site_id: int | None) -> int:
    writer = net.writer
    workshop_id = writer.next_id(WORKSHOP)
    objectives = "\n".join(spec.objectives)
    writer.add(WORKSHOP, {
        "id": workshop_id, "site_id": site_id, "title": spec.title,
        "description": spec.description, "kind": WorkshopKind.COLLECTIVE, "level": spec.level,
        "equipment": spec.equipment, "duration_minutes": spec.minutes,
        "price_cheques": spec.price, "grants_attestation": spec.attestation,
        "objectives": objectives, "what_to_bring": spec.what_to_bring, "is_active": True,
        "created_at": net.at - timedelta(days=700),
        "search_text": searchable(spec.title, spec.description, objectives),
    })
    writer.add_all(THEME, ({"id": writer.next_id(THEME), "workshop_id": workshop_id,
                            "theme": theme} for theme in spec.themes))
    writer.add_all(SUBTHEME, ({"id": writer.next_id(SUBTHEME), "workshop_id": workshop_id,
                               "subtheme": sub} for sub in spec.subthemes))
    net.workshops[workshop_id] = WorkshopInfo(
        id=workshop_id, title=spec.title, minutes=spec.minutes, price=spec.price,
        attestation=spec.attestation, capacity=spec.capacity)
    return workshop_id


def write_workshops(net: Network) -> None:
    net.writer.phase("ateliers")
    net.network_workshop_ids.extend(_workshop(net, spec, None) for spec in WORKSHOPS)
    for n, site in enumerate(net.sites):
        for k in range(OWN_WORKSHOPS):
            spec = WORKSHOPS[(n * OWN_WORKSHOPS + k) % len(WORKSHOPS)]
            site.workshop_ids.append(_workshop(net, spec, site.id))
