"""The demo's evaluation round: frozen and waiting for the demo evaluator's scores.

`mtx demo` adds it after the demo accounts, so the 评审轮次 page has something to do: seven of the sample's communities
applied (the integrity case among them), the formal check done, the data frozen as of the sample's last day, a panel
of three — the demo evaluator and two example experts whose ratings are already in. The evaluator has declared a
conflict (回避) on one candidate and 王 on another, so those two have two complete sheets at most: the round asks for
two experts per candidate, the conflict rule is visible and the round can still close once the evaluator has scored.
The example experts get random passwords nobody knows (an administrator can reset them). Built once: a database that
has the round already is left as it is.
"""
from __future__ import annotations

import datetime as dt
import random
import secrets
from pathlib import Path

from sqlalchemy import select

from tracker import db as dbm
from tracker.access import SYSTEM
from tracker.models import Enterprise, EvaluationRound, User

YEAR = 2026
NAME = "2026年度特色开源社区（演示）"
CUTOFF = dt.date(2026, 10, 31)     # the sample's last day
CANDIDATES = ("yuche-os", "shancheng-cockpit", "wudu-harmony-devices", "hongtu-board", "bayu-edu", "sctu-lab",
              "chaotianmen-widgets")
EXPERTS = (("expert-zhang", "张评审（示例）"), ("expert-wang", "王评审（示例）"))
CONFLICTS = (("evaluator", "sctu-lab", "近三年曾为该实验室授课（示例）"),
             ("expert-wang", "bayu-edu", "与申报单位有合作项目（示例）"))


def ensure_demo_round(url: str, config_dir: Path, evaluator: str = "evaluator") -> int:
    """The demo round's id (created when missing)."""
    from tracker.rounds import lifecycle as L
    from tracker.rounds.checklist import load_rounds_config
    from tracker.rounds.scoreform import save_candidate_scores
    from tracker.scoring.loading import load_model
    from tracker.users import create_user

    with dbm.session_scope(url) as session:
        found = session.scalar(select(EvaluationRound.id).where(EvaluationRound.year == YEAR,
                                                                EvaluationRound.name == NAME))
        if found is not None:
            return found
        config = load_rounds_config(config_dir)
        for username, display in EXPERTS:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                create_user(session, SYSTEM, username, "evaluator", secrets.token_urlsafe(18), None,
                            display_name=display)
        model = load_model("mantianxing", config_dir / "models")
        round_ = L.create_round(session, SYSTEM, year=YEAR, name=NAME, model=model, cutoff=CUTOFF, budget=6_000_000,
                                max_award=2_000_000, min_experts=2)
        L.open_round(session, SYSTEM, round_)
        enterprises = session.execute(select(Enterprise.name, Enterprise.uscc)
                                      .where(Enterprise.registered_in_chongqing.is_(True))
                                      .order_by(Enterprise.id)).all()
        for n, slug in enumerate(CANDIDATES):
            name, uscc = enterprises[n % len(enterprises)]
            L.apply(session, SYSTEM, round_, slug, name, uscc)
        for slug in CANDIDATES:
            items = L.checklist_items(session, round_, L._candidate(session, round_, slug), config.checklist)
            failing = [i for i in items if i.passed is False]
            reason = "；".join(f"{i.label_zh}（{i.detail}）" for i in failing) or None
            L.check(session, SYSTEM, round_, slug, not failing, reason, config.checklist)
        L.close_check(session, SYSTEM, round_)
        L.freeze(session, SYSTEM, round_, now=dt.datetime.combine(CUTOFF + dt.timedelta(days=1), dt.time(),
                                                                  dt.timezone.utc),
                 integrity=config.integrity)
        for username in (evaluator, *(u for u, _ in EXPERTS)):
            L.add_expert(session, SYSTEM, round_, username)
        for username, slug, why in CONFLICTS:
            L.declare_conflict(session, SYSTEM, round_, evaluator if username == "evaluator" else username, slug, why)
        rng = random.Random(f"demo-round:{YEAR}")
        signals = [s.name for s in L.expert_signals(model)]
        passed = [slug for c, slug in L._candidates(session, round_) if c.check_status == "passed"]
        conflicted = {(u, s) for u, s, _ in CONFLICTS}
        for username, _ in EXPERTS:
            for slug in passed:
                if (username, slug) in conflicted:
                    continue
                ratings = {name: rng.choice([2, 2.5, 3, 3.5, 4, 4.5, 5]) for name in signals}
                result = save_candidate_scores(session, SYSTEM, round_, username, slug, ratings, "示例评语")
                assert result.written, result.problems
        return round_.id
