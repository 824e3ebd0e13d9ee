"""50 officials approve one enterprise's awards at the same moment, each in its own process with its own connection.

The enterprise starts with stale computed awards (every product at 200,000, as if computed before the ceiling was
known), which is exactly when unserialised approvals would overshoot. Processes come from a forkserver that has
imported the code once (set MTX_TEST_MP_CONTEXT=spawn to start each from scratch; slower, same result).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import uuid

import pytest
from sqlalchemy import func, select

from tracker import db as dbm
from tracker.models import Award, AuditEntry

from tests.ledger.approval_worker import approve_in_own_process
from tests.ledger.conftest import RULES_FILE, add_certificate, add_enterprise

PROCESSES = 50
PRODUCTS = 10
CEILING = 500000


def _context():
    name = os.environ.get("MTX_TEST_MP_CONTEXT", "forkserver")
    ctx = mp.get_context(name)
    if name == "forkserver":
        ctx.set_forkserver_preload(["tests.ledger.approval_worker", "tracker.ledger.awards", "tracker.ledger.rules",
                                    "tracker.db", "psycopg"])
    return ctx


@pytest.mark.slow
@pytest.mark.postgres
def test_fifty_simultaneous_approvals_never_exceed_the_ceiling(db_url, session):
    enterprise = add_enterprise(session, 77)
    for i in range(PRODUCTS):
        cert = add_certificate(session, enterprise, f"RACE-{i:02d}", f"并发产品{i}", f"2025-0{1 + i % 9}-{10 + i:02d}")
        session.add(Award(enterprise_id=enterprise.id, product_id=cert.product_id, certificate_id=cert.id,
                          amount=200000, status="computed", reason_code="awarded", reason="（陈旧的核算结果）",
                          rule_set_version="stale"))
    session.commit()
    uscc = enterprise.uscc
    session.close()
    dbm.dispose_engine(db_url)

    ctx = _context()
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    attempts = [uuid.uuid4().hex for _ in range(PROCESSES)]
    processes = []
    for i, attempt in enumerate(attempts):  # half approve the whole enterprise, half one certificate each
        target = (uscc, None) if i % 2 == 0 else (None, f"RACE-{i % PRODUCTS:02d}")
        processes.append(ctx.Process(target=approve_in_own_process,
                                     args=(db_url, str(RULES_FILE), attempt, *target, barrier, results)))
    started = time.monotonic()
    for p in processes:
        p.start()
    reports = [results.get(timeout=180) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    elapsed = time.monotonic() - started

    assert [r[2] for r in reports if r[2]] == []  # no process failed
    approved = [o for _, outcomes, _ in reports for o in outcomes if o[1]]
    assert sum(o[2] for o in approved) == CEILING  # exactly the ceiling was approved, never more
    assert len({o[0] for o in approved}) == len(approved)  # no award approved twice

    with dbm.session_scope(db_url) as check:
        total = check.scalar(select(func.sum(Award.amount)).where(Award.status == "approved"))
        assert total == CEILING
        logged = {e.after["attempt"] for e in check.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(["award.approve", "award.approve_refused"])))}
        assert logged == set(attempts)  # every attempt, approved or refused, is in the audit log
        refused = check.scalar(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "award.approve_refused"))
        assert refused >= PROCESSES - 3
    print(f"{PROCESSES} approvals in separate processes: {elapsed:.1f} s")
