"""One approving official in its own process, with its own database connection (for the concurrency test)."""
from __future__ import annotations


def approve_in_own_process(db_url: str, rules_path: str, attempt: str, uscc: str | None, cert_no: str | None,
                           barrier, results) -> None:
    try:
        from tracker import db as dbm
        from tracker.access import Actor
        from tracker.ledger.awards import approve_awards
        from tracker.ledger.rules import load_rule_set

        rules = load_rule_set(rules_path)
        with dbm.get_engine(db_url).connect():  # the connection is open before the start line
            pass
        barrier.wait(timeout=120)
        with dbm.session_scope(db_url) as session:
            outcomes = approve_awards(session, Actor(f"official-{attempt}", "admin"), rules, uscc=uscc,
                                      cert_no=cert_no, attempt=attempt)
        results.put((attempt, [(o.cert_no, o.approved, o.amount, o.reason_code) for o in outcomes], None))
    except BaseException as exc:  # reported to the test, which fails on it
        results.put((attempt, [], f"{type(exc).__name__}: {exc}"))
