"""The bundled sample: deterministic, the hard cases present, realistic shapes, sizes as the scale promises."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, inspect, select, text

from tracker import db as dbm
from tracker.ledger.uscc import check_uscc
from tracker.models import (Account, Certificate, Commit, Community, CommunityRepository, Enterprise, Product,
                            Repository)
from tracker.sample import build_sample, expected_sizes
from tracker.sample.build import SampleError


# when a computation ran (not what it computed): the only columns allowed to differ between two builds
RUN_TIME_COLUMNS = {"awards": {"computed_at"}, "audit_log": {"at"}}


def _without_run_times(value):
    """Audit before/after copies of award rows carry computed_at too: drop it there as well."""
    if isinstance(value, str) and value.startswith("{") and "computed_at" in value:
        data = json.loads(value)
        data.pop("computed_at", None)
        return json.dumps(data, sort_keys=True)
    return value


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order (run-time stamps left out)."""
    engine = dbm.get_engine(url)
    insp = inspect(engine)
    out = {}
    with engine.connect() as conn:
        for table in insp.get_table_names():
            if table == "alembic_version":
                continue
            pk = insp.get_pk_constraint(table)["constrained_columns"]
            columns = [c["name"] for c in insp.get_columns(table) if c["name"] not in RUN_TIME_COLUMNS.get(table, ())]
            out[table] = [tuple(_without_run_times(v) for v in r) for r in conn.execute(
                text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(pk)}"))]
    return out


def fresh(tmp_path, name: str) -> str:
    url = f"sqlite:///{tmp_path / name}"
    dbm.upgrade(url)
    return url


def test_same_seed_gives_identical_content_and_another_seed_does_not(tmp_path, sample_db):
    first = dump(f"sqlite:///{sample_db}")
    again = fresh(tmp_path, "again.db")
    build_sample(again, scale=1, seed=2025)
    assert dump(again) == first
    other = fresh(tmp_path, "other.db")
    build_sample(other, scale=1, seed=7)
    other_dump = dump(other)
    assert other_dump["commits"] != first["commits"]
    assert sum(len(rows) for rows in first.values()) > 30_000


def test_refuses_a_database_that_already_has_data(sample_db_url):
    with pytest.raises(SampleError, match="already holds"):
        build_sample(sample_db_url, scale=1)


@pytest.mark.parametrize("scale", [1, 3])
def test_sizes_are_within_ten_percent_of_what_the_scale_promises(tmp_path, scale, sample_db):
    url = f"sqlite:///{sample_db}" if scale == 1 else fresh(tmp_path, f"s{scale}.db")
    if scale != 1:
        build_sample(url, scale=scale)
    promised = expected_sizes(scale)
    with dbm.session_scope(url) as s:
        actual = {"communities": s.scalar(select(func.count()).select_from(Community)),
                  "repositories": s.scalar(select(func.count()).select_from(Repository)),
                  "commits": s.scalar(select(func.count(func.distinct(Commit.sha)))),
                  "people": s.scalar(text("SELECT COUNT(*) FROM people")),
                  "enterprises": s.scalar(select(func.count()).select_from(Enterprise)),
                  "products": s.scalar(select(func.count()).select_from(Product))}
    for key, want in promised.items():
        assert abs(actual[key] - want) <= 0.10 * want, (key, actual[key], want)


def test_repositories_cover_every_platform_with_a_mirror_an_empty_and_an_archived_one(sample_db_url):
    with dbm.session_scope(sample_db_url) as s:
        platforms = set(s.scalars(select(Repository.platform)))
        assert platforms == {"github", "gitee", "gitcode", "gitlab", "git"}
        states = Counter(s.scalars(select(Repository.state)))
        assert states["empty"] == 1 and states["archived"] == 1
        empty = s.scalar(select(Repository).where(Repository.state == "empty"))
        assert s.scalar(select(func.count()).where(Commit.repository_id == empty.id)) == 0
        # a mirror: two repositories of one community on two platforms sharing every commit sha
        shared = s.execute(select(Commit.sha, func.count(), func.min(Commit.repository_id), func.max(Commit.repository_id))
                           .group_by(Commit.sha).having(func.count() > 1)).all()
        assert len(shared) > 100
        pair = {(a, b) for _, _, a, b in shared}
        assert len(pair) == 1
        a, b = pair.pop()
        ra, rb = s.get(Repository, a), s.get(Repository, b)
        assert {ra.platform, rb.platform} == {"gitcode", "github"} and ra.path == rb.path
        assert s.scalar(select(func.count()).where(Commit.repository_id == a)) == \
            s.scalar(select(func.count()).where(Commit.repository_id == b)) == len(shared)
        archived = s.scalar(select(Repository).where(Repository.state == "archived"))
        last = s.scalar(select(func.max(Commit.author_time)).where(Commit.repository_id == archived.id))
        assert last < dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
        assert s.scalar(select(func.count()).select_from(Repository)
                        .where(Repository.platform == "gitlab", Repository.path.like("%/%/%"))) >= 1


def test_people_include_bots_a_multi_address_person_and_several_kinds_of_domain(sample_db_url):
    with dbm.session_scope(sample_db_url) as s:
        bots = s.scalar(select(func.count()).where(Commit.is_bot.is_(True)))
        assert bots > 100
        assert s.scalar(select(func.count()).select_from(Account).where(Account.login == "dependabot[bot]")) == 1
        emails = s.execute(text("SELECT a.person_id, c.author_email FROM commits c JOIN accounts a "
                                "ON a.id = c.author_account_id WHERE a.person_id IS NOT NULL")).all()
        per_person = defaultdict(set)
        for person, email in emails:
            per_person[person].add(email)
        assert max(len(v) for v in per_person.values()) >= 3
        platforms_per_person = s.execute(text("SELECT person_id, COUNT(DISTINCT platform) FROM accounts "
                                              "GROUP BY person_id ORDER BY 2 DESC LIMIT 1")).one()
        assert platforms_per_person[1] >= 3
        domains = Counter(e.split("@")[1] for _, e in emails)
        assert domains["qq.com"] > 0 and any(d.endswith(".edu.example") for d in domains)
        assert s.scalar(text("SELECT COUNT(*) FROM organisations WHERE chongqing_local")) >= 4
        unlinked = s.scalar(select(func.count()).select_from(Account).where(Account.login.is_(None)))
        assert unlinked > 0


def monthly(s, slug: str) -> list[int]:
    rows = s.execute(text(
        "SELECT strftime('%Y-%m', c.author_time) m, COUNT(*) FROM commits c JOIN community_repositories cr "
        "ON cr.repository_id = c.repository_id JOIN communities k ON k.id = cr.community_id WHERE k.slug = :slug "
        "GROUP BY m ORDER BY m"), {"slug": slug}).all()
    return [n for _, n in rows]


def test_communities_have_different_shapes(sample_db_url):
    with dbm.session_scope(sample_db_url) as s:
        growing, declining = monthly(s, "yuche-os"), monthly(s, "jialing-middleware")
        assert sum(growing[-6:]) > 2 * sum(growing[:6])
        assert sum(declining[:6]) > 2 * sum(declining[-6:])
        by_org = s.execute(text(
            "SELECT o.name, COUNT(*) FROM commits c JOIN community_repositories cr ON cr.repository_id = c.repository_id "
            "JOIN communities k ON k.id = cr.community_id JOIN accounts a ON a.id = c.author_account_id "
            "JOIN affiliations f ON f.person_id = a.person_id AND f.end_date IS NULL "
            "JOIN organisations o ON o.id = f.organisation_id "
            "WHERE k.slug = 'shancheng-cockpit' GROUP BY o.name ORDER BY 2 DESC")).all()
        assert by_org[0][1] > 0.6 * sum(n for _, n in by_org)
        authors = s.execute(text(
            "SELECT c.author_name, COUNT(*) FROM commits c JOIN community_repositories cr "
            "ON cr.repository_id = c.repository_id JOIN communities k ON k.id = cr.community_id "
            "WHERE k.slug = 'tiny-compiler-course' GROUP BY c.author_name ORDER BY 2 DESC")).all()
        assert authors[0][1] > 0.85 * sum(n for _, n in authors)


def test_ledger_hard_cases_are_present(sample_db_url):
    with dbm.session_scope(sample_db_url) as s:
        enterprises = list(s.scalars(select(Enterprise).order_by(Enterprise.id)))
        assert len(enterprises) == 15
        assert all(check_uscc(e.uscc).ok and not check_uscc(e.uscc).warnings for e in enterprises)
        outside = [e for e in enterprises if not e.registered_in_chongqing]
        assert len(outside) == 1 and not outside[0].uscc[2:4] == "50"
        assert all(e.uscc[2:4] == "50" for e in enterprises if e.registered_in_chongqing)
        assert all("虚构" in e.name for e in enterprises)
        products_per_enterprise = Counter(s.scalars(select(Product.enterprise_id)))
        assert products_per_enterprise[enterprises[0].id] == 3
        recert = s.execute(select(Certificate.product_id, func.count(), func.min(Certificate.os_version),
                                  func.max(Certificate.os_version)).group_by(Certificate.product_id)
                           .having(func.count() > 1)).all()
        assert len(recert) == 1 and recert[0][2] != recert[0][3]
        assert s.scalar(select(func.count()).where(Certificate.status == "revoked")) == 1
        derived = s.scalar(select(Certificate).where(Certificate.derived_from_id.is_not(None)))
        assert derived is not None and s.get(Certificate, derived.derived_from_id).cert_no == derived.derived_from_no
        assert s.scalar(select(func.count()).where(Product.first_version.is_(False))) == 1
        assert s.scalar(select(func.count()).where(Certificate.pass_date < dt.date(2025, 1, 1))) == 1
        assert s.scalar(select(func.count()).where(Certificate.programme != "OpenHarmony生态产品兼容性证书")) == 1


@pytest.mark.postgres
def test_sample_builds_on_every_backend_and_leaves_sequences_usable(db_url):
    summary = build_sample(db_url, scale=1)
    assert summary.counts["communities"] == 13  # the demo's 12 and the integrity case
    with dbm.session_scope(db_url) as s:
        s.add(Community(slug="added-later", name_zh="后加社区", focus="other"))
    with dbm.session_scope(db_url) as s:
        assert s.scalar(select(Community.id).where(Community.slug == "added-later")) == 14


# rows that sum over everyone's commits: the integrity case's contributors (people of the sample) change them
EVERYONE_ROWS = {"activity_months": lambda row: True, "activity_people": lambda row: row[0] == "a",
                 "people_resolution_state": lambda row: True}


def test_the_integrity_case_adds_its_own_rows_and_changes_no_other_community(tmp_path, sample_db, monkeypatch):
    """Built without it (its step skipped), every other row is the same: no random stream, id or person shifted."""
    from tracker.sample import integrity_case

    monkeypatch.setattr(integrity_case, "add_community", lambda world: None)
    without_url = fresh(tmp_path, "without.db")
    build_sample(without_url, scale=1)
    without, with_case = dump(without_url), dump(f"sqlite:///{sample_db}")
    assert len(without["communities"]) == 12 and len(with_case["communities"]) == 13
    with dbm.session_scope(f"sqlite:///{sample_db}") as s:
        case = s.scalar(select(Community.id).where(Community.slug == integrity_case.SLUG))
        case_repos = set(s.scalars(select(CommunityRepository.repository_id)
                                   .where(CommunityRepository.community_id == case)))
    assert len(case_repos) == len(integrity_case.REPOSITORIES)
    for table, rows in without.items():
        everyone = EVERYONE_ROWS.get(table, lambda row: False)
        missing = [r for r in set(rows) - set(with_case[table]) if not everyone(r)]
        assert not missing, (table, missing[:3])
    added = {table: set(rows) - set(without[table]) for table, rows in with_case.items()}
    assert [r[0] for r in added["communities"]] == [case]
    assert {r[0] for r in added["repositories"]} == case_repos
    with dbm.get_engine(f"sqlite:///{sample_db}").connect() as conn:
        columns = [c[1] for c in conn.execute(text("PRAGMA table_info(commits)"))]
    repo_column = columns.index("repository_id")
    assert added["commits"] and {r[repo_column] for r in added["commits"]} == case_repos
    assert len(with_case["people"]) == len(without["people"])  # its contributors are people of the sample
