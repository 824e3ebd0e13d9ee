"""Corrections survive `mtx collect --full` and a fresh resolution (the emulator, real HTTP, subprocess `mtx`)."""
from __future__ import annotations

import pytest
import yaml
from sqlalchemy import text

from tests.collect.conftest import config_dir, emulator, run_mtx  # noqa: F401  (fixtures)
from tracker import db as dbm

pytestmark = pytest.mark.postgres


def state(url: str) -> dict:
    """People by natural keys: address groups, bot flags, organisations."""
    with dbm.get_engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT ci.email, ci.person_id, p.is_bot, o.name FROM commit_identities ci "
            "JOIN people p ON p.id = ci.person_id LEFT JOIN organisations o ON o.id = ci.organisation_id")).all()
        commit_bots = dict(conn.execute(text("SELECT c.author_email, MAX(CASE WHEN c.is_bot THEN 1 ELSE 0 END) "
                                             "FROM commits c GROUP BY c.author_email")).all())
    groups: dict[int, set[str]] = {}
    for email, pid, _, _ in rows:
        groups.setdefault(pid, set()).add(email)
    return {"groups": sorted(sorted(g) for g in groups.values()),
            "bots": sorted({e for e, _, b, _ in rows if b}), "orgs": sorted({(e, o) for e, _, _, o in rows if o}),
            "commit_bots": sorted(e for e, b in commit_bots.items() if b)}


def person(url: str, email: str) -> int:
    with dbm.get_engine(url).connect() as conn:
        return conn.scalar(text("SELECT person_id FROM commit_identities WHERE email = :e"), {"e": email})


def test_corrections_survive_a_full_collection_and_a_fresh_resolution(db_url, config_dir, emulator):
    (config_dir / "organisations.yaml").write_text(yaml.safe_dump(
        {"organisations": [{"name": "Acme 公司", "domains": []}]}, allow_unicode=True), encoding="utf-8")
    first = run_mtx(db_url, config_dir, "collect")
    assert first.returncode == 0, first.stderr
    assert "people resolved" in first.stdout + first.stderr
    dev0, drive_by = "dev0@acme-big.example.org", "drive-by-1@unlinked.example.net"
    assert person(db_url, dev0) != person(db_url, drive_by)
    assert person(db_url, "dev2@acme-big.example.org") is not None

    for args in (("people", "merge", dev0, drive_by, "--reason", "same developer"),
                 ("people", "split", str(person(db_url, "dev2@acme-big.example.org")), "github:acme-big-dev2",
                  "--reason", "a shared account"),
                 ("people", "bot", "github:acme-big-dev3", "--yes", "--reason", "a release script"),
                 ("orgs", "map", "acme-small.example.org", "Acme 公司")):
        done = run_mtx(db_url, config_dir, *args)
        assert done.returncode == 0, (args, done.stderr)
    corrected = state(db_url)
    assert [dev0, drive_by] in corrected["groups"]
    assert "dev3@acme-big.example.org" in corrected["bots"] and "dev3@acme-big.example.org" in corrected["commit_bots"]
    assert ("dev1@acme-small.example.org", "Acme 公司") in corrected["orgs"]
    with dbm.get_engine(db_url).connect() as conn:  # the split took the account away from the address
        account_person = conn.scalar(text("SELECT person_id FROM accounts WHERE login = 'acme-big-dev2'"))
    assert account_person != person(db_url, "dev2@acme-big.example.org")

    full = run_mtx(db_url, config_dir, "collect", "--full")
    assert full.returncode == 0, full.stderr
    assert state(db_url) == corrected

    with dbm.get_engine(db_url).begin() as conn:  # a fresh resolution: no people at all, then resolve
        conn.execute(text("DELETE FROM people"))
    assert state(db_url)["groups"] == []
    fresh = run_mtx(db_url, config_dir, "people", "resolve")
    assert fresh.returncode == 0, fresh.stderr
    assert state(db_url) == corrected
