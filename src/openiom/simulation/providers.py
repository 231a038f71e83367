"""Referrals to pathway providers for the simulated scheme's registrations (issue #5 item 11).

Under each registration the lead worker refers the person to housing (when accommodation is a
need in the plan), to drug treatment (when the person has drug needs and the drug service is not
already working with them) and, for some, to mentoring. Each referral records its lawful basis
(usually the person's consent, otherwise a legal basis for sharing without it) and runs sent →
accepted → in progress → completed, or is declined or ended early, with dates that follow one
another and never pass the registration's end (a referral still active when the registration
ends is ended early then) or the as-of date. As `providers.services` does, sending opens an
involvement for the receiving agency and closing ends it. Draws come from the simulator's
case-management stream.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from openiom.simulation.casework import first_lead

if TYPE_CHECKING:
    from openiom.simulation.scheme import SchemeSimulator

DAY = dt.timedelta(days=1)
# service type → (receiving agency, worker persona, reason)
SERVICES = {
    "housing": (
        "harbour-housing",
        "housing.worker",
        "No settled address since release; sofa-surfing. Asks for supported accommodation.",
    ),
    "drug_alcohol": (
        "turning-point-wessex",
        "drug.worker",
        "Daily heroin and crack use linked to shoplifting and burglary; wants a treatment place.",
    ),
    "mentoring": (
        "second-chance-mentoring",
        "vcs.mentor",
        "Isolated and bored; would value a mentor with lived experience.",
    ),
}
DECLINE = ["No capacity this quarter; refer again in eight weeks", "Outside our eligibility"]
END_EARLY = "Stopped engaging after several missed sessions"


def write_provider_referrals(
    sim: SchemeSimulator,
    create: Callable[..., list[Any]],
    users: dict[str, Any],
    accommodation_need: set[int],
) -> None:
    from openiom.people.models import Involvement
    from openiom.providers.models import ProviderReferral, ProviderReferralStateChange

    rng, agency_id = sim.case_rng, sim.agency_ids
    referrals: list[ProviderReferral] = []
    steps: list[list[tuple[str, str, str, Any, str, dt.date]]] = []
    involvements: list[Involvement] = []
    for reg in sim.regs:
        stop = min(reg.end or sim.as_of, sim.as_of)
        lead_agency, lead_worker = first_lead(reg)
        wanted = []
        if reg.person in accommodation_need:
            wanted.append("housing")
        if sim.drug_need.get(reg.person) and reg.person not in sim.drug_clients:
            wanted.append("drug_alcohol")
        if rng.random() < 0.3:
            wanted.append("mentoring")
        for service in wanted:
            sent = reg.start + int(rng.integers(3, 21)) * DAY
            if sent > stop:
                continue
            receiving, persona, reason = SERVICES[service]
            worker = users[persona]
            consent = rng.random() < 0.8
            basis = (
                "" if consent else str(rng.choice(["cda_1998_s115", "ukgdpr_6_1_e_dpa_sch1_p6"]))
            )
            # (from, to, reason, who, their agency, on)
            path: list[tuple[str, str, str, Any, str, dt.date]] = [
                ("", "sent", "", lead_worker, lead_agency, sent)
            ]
            state, day = "sent", sent
            plan = ["accepted", "in_progress", "completed"]
            if rng.random() < 0.12:
                plan = ["declined"]
            elif rng.random() < 0.18:
                plan = ["accepted", "in_progress", "ended_early"]
            gaps = {
                "accepted": (2, 10),
                "declined": (2, 10),
                "in_progress": (3, 15),
                "completed": (60, 150),
                "ended_early": (20, 90),
            }
            for nxt in plan:
                low, high = gaps[nxt]
                on = day + int(rng.integers(low, high)) * DAY
                if on > stop:
                    if reg.end is not None and reg.end <= sim.as_of and state != "sent":
                        why = "The IOM registration ended; support continues through the exit plan"
                        path.append((state, "ended_early", why, worker, receiving, reg.end))
                        state, day = "ended_early", reg.end
                    elif reg.end is not None and reg.end <= sim.as_of:
                        why = "The IOM registration ended before the provider replied"
                        path.append((state, "withdrawn", why, lead_worker, lead_agency, reg.end))
                        state, day = "withdrawn", reg.end
                    break
                why = {
                    "declined": str(rng.choice(DECLINE)),
                    "ended_early": END_EARLY,
                    "completed": "Support plan completed",
                }.get(nxt, "")
                path.append((state, nxt, why, worker, receiving, on))
                state, day = nxt, on
            closed = state in {"completed", "declined", "ended_early", "withdrawn"}
            involvement = Involvement(
                person_id=reg.person,
                agency_id=agency_id[receiving],
                worker=worker,
                purpose=f"Provider referral ({service.replace('_', ' ')})",
                start_date=sent,
                end_date=day if closed else None,
            )
            involvements.append(involvement)
            referrals.append(
                ProviderReferral(
                    person_id=reg.person,
                    registration=reg.row,
                    service_type=service,
                    receiving_agency_id=agency_id[receiving],
                    receiving_worker=worker,
                    reason=reason,
                    sent_by=lead_worker,
                    sending_agency_id=agency_id[lead_agency],
                    consent_given_on=sent if consent else None,
                    consent_recorded_how=str(rng.choice(["signed_form", "verbal"]))
                    if consent
                    else "",
                    legal_basis=basis,
                    state=state,
                    closing_reason=path[-1][2] if closed else "",
                    closed_at=_at(day, 16) if closed else None,
                    involvement=involvement,
                )
            )
            steps.append(path)
    create(Involvement, involvements)
    for referral, involvement in zip(referrals, involvements, strict=True):
        referral.involvement = involvement
    create(ProviderReferral, referrals)
    changes = [
        ProviderReferralStateChange(
            referral=referral,
            from_state=frm,
            to_state=to,
            reason=why,
            changed_by=who,
            changed_by_agency_id=agency_id[code],
        )
        for referral, path in zip(referrals, steps, strict=True)
        for frm, to, why, who, code, _on in path
    ]
    create(ProviderReferralStateChange, changes)
    # date the referrals (auto_now_add gave them today): one UPDATE per day. The append-only
    # changelog keeps its recording time, as the scheme's referral changelog does.
    by_day: dict[dt.date, list[int]] = {}
    for referral, path in zip(referrals, steps, strict=True):
        by_day.setdefault(path[0][5], []).append(referral.pk)
    for day, ids in by_day.items():
        ProviderReferral.objects.filter(pk__in=ids).update(sent_at=_at(day, 11))


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
