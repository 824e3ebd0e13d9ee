"""One administrator's change to people or organisations, as the CLI and the app make it: record the correction, then
resolve people in the same transaction, so the change shows at once and the metrics aggregates built on those people
are refreshed by the resolution (tracker.metrics.activity.refresh_people)."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session

from tracker.access import Actor, require_role
from tracker.config import Config
from tracker.models import IdentityCorrection
from tracker.people import corrections
from tracker.people.resolve import ResolveReport, resolve_people

Change = Callable[[Session, Actor, Config], IdentityCorrection]


def apply_change(session: Session, actor: Actor, config: Config, change: Change, *,
                 reason: str | None = None, require_reason: bool = False) -> tuple[IdentityCorrection, ResolveReport]:
    """``change(session, actor, config)`` (a function of tracker.people.corrections), then a resolution.

    ``require_reason``: refuse an empty ``reason`` first (the app asks one for every change; the CLI only for some)."""
    require_role(actor, "admin", action="correct people and organisations")
    if require_reason:
        corrections.require_reason(reason)
    correction = change(session, actor, config)
    report = resolve_people(session, actor, config.identities, config.organisations)
    return correction, report
