"""Issue 17, "Must show" (second bullet): on the scale-1 sample every signal of every community, as `mtx metrics
--format json` prints it, equals a computation written separately (tests/metrics/independent.py: pandas over the raw
tables), and still does after `mtx people merge` joins two people: the aggregates must follow the people as resolved.

The sample is built once per backend and module through `mtx sample`; the test that merges works on a copy.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.metrics.independent import SIGNALS, RawTables
from tracker import db as dbm
from tracker.cli import main

pytestmark = pytest.mark.postgres

AS_OF = dt.date(2026, 10, 31)
CONFIG = Path(__file__).resolve().parents[2] / "config"  # what the sample resolves its people with
USER = "office"  # not a registered user: the operator at the shell, an administrator


class Samples:
    """One scale-1 sample per backend, built on first use by `mtx sample`; `copy` gives a private one to change."""

    def __init__(self, directory: Path, pg_databases) -> None:
        self.directory = directory
        self.pg = pg_databases
        self.built: dict[str, str] = {}
        self.made: list[str] = []

    def url(self, backend: str) -> str:
        if backend not in self.built:
            if backend == "postgresql":
                url = self.pg.create(migrated=True)
                self.made.append(url)
            else:
                url = f"sqlite:///{self.directory / 'sample.db'}"
            code = main(["--db", url, "--config", str(CONFIG), "--as", USER, "sample", "--scale", "1"])
            dbm.dispose_engine(url)
            assert code == 0, "mtx sample --scale 1 failed"
            self.built[backend] = url
        return self.built[backend]

    def copy(self, backend: str, tmp_path: Path) -> str:
        source = self.url(backend)
        if backend == "postgresql":
            name = f"mtx_test_{uuid.uuid4().hex[:10]}"
            with self.pg.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(source).database}"'))
            url = make_url(source).set(database=name).render_as_string(hide_password=False)
            self.made.append(url)
            return url
        path = tmp_path / "sample-copy.db"
        shutil.copyfile(make_url(source).database, path)
        return f"sqlite:///{path}"

    def close(self) -> None:
        for url in self.made:
            self.pg.drop(url)


@pytest.fixture(scope="module")
def samples(tmp_path_factory, pg_databases):
    built = Samples(tmp_path_factory.mktemp("metrics-sample"), pg_databases)
    yield built
    built.close()


@pytest.fixture
def run(capsys):
    def run(url: str, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--db", url, "--config", str(CONFIG), "--as", USER, *args])
        dbm.dispose_engine(url)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def metrics_json(run, url: str) -> dict[str, dict]:
    code, out, err = run(url, "metrics", "--as-of", AS_OF.isoformat(), "--format", "json")
    assert code == 0, err
    entries = json.loads(out)
    assert all(e["as_of"] == AS_OF.isoformat() for e in entries)
    return {e["community"]: e["signals"] for e in entries}


def raw_tables(url: str) -> RawTables:
    engine = create_engine(dbm.normalise_url(url))
    try:
        with engine.connect() as conn:
            return RawTables(conn, AS_OF)
    finally:
        engine.dispose()


def same_number(got, expected) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    if isinstance(expected, int):
        return got == expected
    return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)


def disagreements(got: dict[str, dict], tables: RawTables) -> list[str]:
    """Every (community, signal) where the command and the independent computation differ, in words."""
    expected = tables.expected()
    problems = []
    if sorted(got) != sorted(expected):
        problems.append(f"communities: got {sorted(got)}, expected {sorted(expected)}")
    for slug in sorted(set(got) & set(expected)):
        if sorted(got[slug]) != sorted(SIGNALS):
            problems.append(f"{slug}: signals {sorted(got[slug])}, expected {sorted(SIGNALS)}")
        for name in sorted(set(got[slug]) & set(SIGNALS)):
            g, e = got[slug][name], expected[slug][name]
            if not (same_number(g["value"], e.value) and g["reason"] == e.reason
                    and g["repositories"] == e.repositories and g["window"] == e.window):
                problems.append(f"{slug} {name}: got value={g['value']!r} reason={g['reason']!r} "
                                f"repositories={g['repositories']} window={g['window']!r}; expected value={e.value!r} "
                                f"reason={e.reason!r} repositories={e.repositories} window={e.window!r}")
    return problems


def test_the_sample_exercises_what_the_definitions_are_about(backend, samples):
    """The equality below means something only if the sample has mirrors, bots, merges, git-only repositories,
    Chongqing affiliations, unanswered issues and communities without some data."""
    tables = raw_tables(samples.url(backend))
    rows = tables.members[["slug", "repository_id"]].merge(tables.author_rows(), on="repository_id")
    assert rows.duplicated(["slug", "sha"]).any(), "a sha in two repositories of one community"
    assert rows["bot"].any() and rows["is_merge"].any()
    assert (tables.members["platform"] == "git").any()
    counted = tables.community_commits()
    assert counted[tables.in_window(counted["author_time"], 365)]["chongqing"].any()
    assert (tables.issues["first_response_at"].isna() | (tables.issues["first_response_at"] >= tables.end)).any()
    assert counted["organisation"].isna().any(), "individuals, in no organisation"


def test_every_signal_of_every_community_equals_the_independent_computation(backend, samples, run):
    url = samples.url(backend)
    problems = disagreements(metrics_json(run, url), raw_tables(url))
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems)


def pick_two_people(tables: RawTables, url: str) -> tuple[str, str, str, str]:
    """(e-mail A, e-mail B, person A, person B): two different humans with counted commits in the contributor window
    in one community, only one of them in another (so one count must drop and one must not), at most one of them with
    dated affiliations (so the merged person has one organisation on every date), each e-mail naming one person."""
    engine = create_engine(dbm.normalise_url(url))
    with engine.connect() as conn:
        identities = conn.execute(text("SELECT i.email, i.person_id FROM commit_identities i JOIN people p "
                                       "ON p.id = i.person_id WHERE NOT p.is_bot AND NOT p.is_anonymous "
                                       "AND i.email IS NOT NULL")).all()
    engine.dispose()
    people_of_email: dict[str, set[str]] = {}
    for email, pid in identities:
        people_of_email.setdefault(email, set()).add(f"p{pid}")
    email_of = {}
    for email, people in sorted(people_of_email.items()):
        if len(people) == 1:
            email_of.setdefault(next(iter(people)), email)
    affiliated = {f"p{int(p)}" for p in tables.affiliations["person_id"]}
    counted = tables.community_commits()
    recent = counted[tables.in_window(counted["author_time"], 365)]
    where = recent.groupby("author")["slug"].agg(set).to_dict()
    candidates = sorted((a for a in where if a in email_of), key=lambda a: int(a[1:]))
    for i, a in enumerate(candidates):
        for b in candidates[i + 1:]:
            if (where[a] & where[b]) and (where[a] ^ where[b]) and not (a in affiliated and b in affiliated):
                return email_of[a], email_of[b], a, b
    raise AssertionError("the sample has no two people to merge as this test needs")


def test_after_a_person_merge_every_signal_still_equals_the_independent_computation(backend, samples, run, tmp_path):
    url = samples.copy(backend, tmp_path)
    before_tables = raw_tables(url)
    email_a, email_b, a, b = pick_two_people(before_tables, url)
    before = metrics_json(run, url)

    code, out, err = run(url, "people", "merge", email_a, email_b, "--reason", "同一人 / same person (test)")
    assert code == 0, err

    after_tables = raw_tables(url)
    engine = create_engine(dbm.normalise_url(url))
    with engine.connect() as conn:
        merged = {pid for (pid,) in conn.execute(text("SELECT DISTINCT person_id FROM commit_identities "
                                                      "WHERE email IN (:a, :b)"), {"a": email_a, "b": email_b})}
    engine.dispose()
    assert len(merged) == 1 and None not in merged, f"{email_a} and {email_b} are one person now"

    after = metrics_json(run, url)
    problems = disagreements(after, after_tables)
    assert not problems, f"{len(problems)} disagreements after the merge:\n" + "\n".join(problems)

    recent = before_tables.community_commits()
    recent = recent[before_tables.in_window(recent["author_time"], 365)]
    both = {slug for slug, authors in recent.groupby("slug")["author"].agg(set).items() if {a, b} <= authors}
    assert both, "the two people share a community"
    for slug in before:
        drop = 1 if slug in both else 0
        assert after[slug]["contributor_count"]["value"] == before[slug]["contributor_count"]["value"] - drop, slug
