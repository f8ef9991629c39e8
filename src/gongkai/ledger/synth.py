"""Generated ledgers for tests and benchmarks: applications with every applicant type and outcome,
补正, consultations, extensions, fees and lapses, some still open at the end of the year."""

from __future__ import annotations

import datetime as dt
import random

from gongkai.ledger.deadlines import count_working_days
from gongkai.ledger.models import Appeal, Application, Channel, Event, EventKind
from gongkai.ledger.roles import Roles, roles_for_year


def synth_application(rng: random.Random, body: str, year: int, roles: Roles, number: int,
                      open_share: float = 0.05) -> Application:
    """One application received in `year` (or late in the year before: some carried over)."""
    types = list(roles.applicant_types)
    outcomes = list(roles.outcome_rows)
    start = dt.date(year - 1, 11, 1) if rng.random() < 0.08 else dt.date(year, 1, 2)
    received = start + dt.timedelta(days=rng.randrange((dt.date(year, 12, 31) - start).days))
    app = Application(body=body, applicant_type=rng.choice(types), channel=rng.choice(list(Channel)),
                      received_on=received, applicant_name=f"申请人{number}", number=f"{year}-{number:05d}",
                      content=f"申请公开第 {number} 号事项", handler=rng.choice(["张三", "李四", "王五"]))
    day = received
    # Stay inside the years the shipped calendar covers: late applications are left open.
    if received > dt.date(year, 11, 20) or rng.random() < open_share:
        return app
    step = rng.random()
    if step < 0.1:
        app.events.append(Event(kind=EventKind.correction_notice, on=day + dt.timedelta(days=2), days=10))
        if rng.random() < 0.3:
            app.events.append(Event(kind=EventKind.correction_lapsed, on=day + dt.timedelta(days=20)))
            return app
        day += dt.timedelta(days=5)
        app.events.append(Event(kind=EventKind.correction_received, on=day))
    elif step < 0.15:
        app.events.append(Event(kind=EventKind.consultation_sent, on=day + dt.timedelta(days=3)))
        app.events.append(Event(kind=EventKind.consultation_answered, on=day + dt.timedelta(days=10)))
        day += dt.timedelta(days=10)
    elif step < 0.2:
        app.events.append(Event(kind=EventKind.fee_notice, on=day + dt.timedelta(days=3)))
        if rng.random() < 0.3:
            app.events.append(Event(kind=EventKind.fee_lapsed, on=day + dt.timedelta(days=35)))
            return app
        day += dt.timedelta(days=8)
        app.events.append(Event(kind=EventKind.fee_paid, on=day))
    elif step < 0.25:
        app.events.append(Event(kind=EventKind.extension, on=day + dt.timedelta(days=3), days=rng.randint(5, 20),
                                approver="办公室主任"))
    reply_on = count_working_days(day, rng.randint(3, 18)).end
    app.events.append(Event(kind=EventKind.reply, on=reply_on, outcome=rng.choice(outcomes)))
    if rng.random() < 0.5:
        app.events.append(Event(kind=EventKind.delivery, on=reply_on + dt.timedelta(days=1)))
    return app


def synth_applications(count: int, year: int, bodies: list[str] | None = None, seed: int = 0,
                       open_share: float = 0.05) -> list[Application]:
    """`count` applications over the bodies, every applicant type and outcome present when count allows."""
    rng = random.Random(seed)
    roles = roles_for_year(year)
    bodies = bodies or ["某市人民政府办公室"]
    apps = [synth_application(rng, bodies[i % len(bodies)], year, roles, i, open_share) for i in range(count)]
    # Make sure every (outcome, applicant type) pair occurs once: replies to the first applications.
    pairs = [(o, t) for o in roles.outcome_rows for t in roles.applicant_types]
    for app, (outcome, applicant_type) in zip(apps, pairs, strict=False):
        app.applicant_type = applicant_type
        app.received_on = dt.date(year, 3, 2)
        app.events = [Event(kind=EventKind.reply, on=dt.date(year, 3, 20), outcome=outcome)]
    return apps


def synth_appeals(count: int, year: int, body: str, seed: int = 0) -> list[Appeal]:
    rng = random.Random(seed)
    roles = roles_for_year(year)
    out = []
    for _ in range(count):
        filed = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(360))
        decided = rng.random() < 0.7
        out.append(Appeal(body=body, kind=rng.choice(list(roles.appeal_kinds)), filed_on=filed,
                          decided_on=filed + dt.timedelta(days=rng.randrange(120)) if decided else None,
                          outcome=rng.choice(list(roles.appeal_outcomes)) if decided else None))
    return out
