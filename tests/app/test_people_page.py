"""人员与组织 through the app (AppTest): search in SQL, a person's accounts and masked addresses (revealed only by an
administrator, audited), corrections that move `mtx metrics` as the data says they must and survive a re-resolution,
an evaluator who can only read, an enterprise user refused."""
from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import create_engine, text

from tests.app.test_ranking import CONFIG, run
from tracker import db as dbm
from tracker.access import AccessDenied, Actor, SYSTEM
from tracker.cli import main
from tracker.people.rules import mask_email
from views.pages import allowed

PAGE = "views/people.py"
COMMUNITY = "hongtu-board"
AS_OF = "2026-10-31"
# commits well inside the 365-day window ending at AS_OF (Beijing days), so a window edge decides nothing
IN_WINDOW = "c.author_time >= '2026-01-01' AND c.author_time < '2026-10-01'"
NEW_DOMAIN = "hongtu-robotics.cn"  # an unregistered corporate domain: an unverified organisation
ADMIN, EVALUATOR = Actor("admin", "admin"), Actor("evaluator", "evaluator")

COUNTED = f"""
    SELECT DISTINCT p.id FROM commits c
    JOIN commit_identities ci ON ci.id = c.author_identity_id JOIN people p ON p.id = ci.person_id
    JOIN community_repositories cr ON cr.repository_id = c.repository_id
    JOIN communities m ON m.id = cr.community_id
    WHERE m.slug = :community AND NOT c.is_merge AND NOT p.is_bot AND {IN_WINDOW}"""


def sql(url: str, statement: str, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(statement), params).all()
    finally:
        engine.dispose()


def signals(url: str, capsys, community: str = COMMUNITY) -> dict:
    capsys.readouterr()
    assert main(["--db", url, "--config", str(CONFIG), "metrics", "--community", community, "--format", "json",
                 "--as-of", AS_OF]) == 0
    return {k: v["value"] for k, v in json.loads(capsys.readouterr().out)[0]["signals"].items()}


def resolve_again(url: str, capsys) -> None:
    """`mtx people resolve` from scratch (the stored digest forgotten): every correction is replayed."""
    from tracker.people import state

    with dbm.session_scope(url) as s:
        state.forget(s.connection())
    capsys.readouterr()
    assert main(["--db", url, "--config", str(CONFIG), "--as", "admin", "people", "resolve"]) == 0
    assert "people resolved" in capsys.readouterr().out


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def field(at, label_start: str):
    return next(t for t in at.text_input if t.label.startswith(label_start))


def shown_text(at) -> str:
    """Everything the page put on screen as text: messages, tables, choosers' options, inputs' values."""
    parts = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "success", "error", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [d.value.to_csv() for d in at.dataframe]
    for chooser in (*at.selectbox, *at.radio):
        parts += [chooser.label, *map(str, chooser.options)]
    parts += [str(t.value) for t in at.text_input]
    return "\n".join(parts)


def search(at, needle: str):
    at.text_input(key="people_search").set_value(needle).run()
    assert not at.exception, at.exception
    return at


def confirm_change(at, submit: str):
    button(at, submit).click().run()
    button(at, "确认").click().run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="session")
def people_db(sample_db, tmp_path_factory):
    """The sample plus one unverified organisation counted in COMMUNITY: an individual (free mail, no dated
    affiliation) with commits there is given addresses at NEW_DOMAIN, as if collected so, and people resolved."""
    from tracker.config import load_config
    from tracker.people import state
    from tracker.people.resolve import resolve_people

    path = tmp_path_factory.mktemp("people") / "people.db"
    shutil.copyfile(sample_db, path)
    url = f"sqlite:///{path}"
    pid = sql(url, f"""SELECT p.id FROM ({COUNTED}) p WHERE p.id NOT IN (SELECT person_id FROM affiliations)
                       AND NOT EXISTS (SELECT 1 FROM commit_identities x WHERE x.person_id = p.id
                                       AND x.organisation_id IS NOT NULL)
                       ORDER BY p.id LIMIT 1""", community=COMMUNITY)[0][0]
    config = load_config(CONFIG)
    with dbm.session_scope(url) as s:
        s.execute(text("UPDATE commit_identities SET email = substr(email, 1, instr(email, '@')) || :d "
                       "WHERE person_id = :p AND email LIKE '%@%'"), {"d": NEW_DOMAIN, "p": pid})
        state.forget(s.connection())
        resolve_people(s, SYSTEM, config.identities, config.organisations)
    dbm.dispose_engine(url)
    return path


@pytest.fixture
def people_db_url(people_db, tmp_path):
    path = tmp_path / "people.db"
    shutil.copyfile(people_db, path)
    url = f"sqlite:///{path}"
    yield url
    dbm.dispose_engine(url)


def a_person_with_an_account_and_addresses(url: str, counted_in: str | None = None) -> tuple[int, str, list[str]]:
    """(person id, one PLATFORM:LOGIN, their addresses) of a human with two addresses or more (and commits in the
    community inside the window, when one is given)."""
    pid, platform, login = sql(url, f"""
        SELECT a.person_id, a.platform, a.login FROM accounts a JOIN people p ON p.id = a.person_id
        WHERE a.login IS NOT NULL AND NOT p.is_bot
          AND (SELECT count(DISTINCT email) FROM commit_identities ci WHERE ci.person_id = p.id) >= 2
          {f"AND p.id IN ({COUNTED})" if counted_in else ""}
        ORDER BY a.person_id, a.platform, a.login LIMIT 1""", community=counted_in)[0]
    emails = sorted({e.strip().lower() for (e,) in sql(url, "SELECT email FROM commit_identities WHERE person_id = :p",
                                                       p=pid)})
    return pid, f"{platform}:{login}", emails


def one_person(url: str, addresses: list[str]) -> int | None:
    """The one person all these addresses belong to (None when they are not one)."""
    owners = {p for (p,) in sql(url, "SELECT DISTINCT person_id FROM commit_identities WHERE email IN ("
                                     + ", ".join(f":e{n}" for n in range(len(addresses))) + ")",
                                **{f"e{n}": e for n, e in enumerate(addresses)})}
    return owners.pop() if len(owners) == 1 else None


def test_search_finds_people_by_login_address_and_name_as_the_database_does(monkeypatch, sample_db_url):
    pid, ref, emails = a_person_with_an_account_and_addresses(sample_db_url)
    at = run(monkeypatch, sample_db_url, EVALUATOR, PAGE)
    assert at.title[0].value == "人员与组织"
    total = sql(sample_db_url, "SELECT count(*) FROM people")[0][0]
    assert f"共 {total:,} 人" in at.caption[0].value and len(at.dataframe[0].value) == min(total, 50)
    search(at, ref)
    assert list(at.dataframe[0].value["编号"]) == [pid]
    search(at, emails[0].upper())  # case-insensitive, the whole address
    owners = sorted({p for (p,) in sql(sample_db_url, "SELECT person_id FROM commit_identities "
                                                      "WHERE lower(trim(email)) = :e", e=emails[0])})
    assert list(at.dataframe[0].value["编号"]) == owners == [pid]
    name = sql(sample_db_url, "SELECT display_name FROM people WHERE id = :p", p=pid)[0][0]
    search(at, name)
    assert pid in list(at.dataframe[0].value["编号"])
    search(at, "no-such-person-anywhere")
    assert "没有符合条件的人员。" in [i.value for i in at.info]


def test_a_person_shows_accounts_and_masked_addresses_and_a_reveal_is_audited(monkeypatch, sample_db_url):
    pid, ref, emails = a_person_with_an_account_and_addresses(sample_db_url)
    accounts = sorted(login for (login,) in sql(sample_db_url, "SELECT login FROM accounts WHERE person_id = :p "
                                                               "AND login IS NOT NULL", p=pid))
    at = search(run(monkeypatch, sample_db_url, ADMIN, PAGE), ref)
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    account_table = next(v for k, v in tables.items() if "登录名" in k)
    identity_table = next(v for k, v in tables.items() if "提交署名" in k)
    assert sorted(account_table["登录名"]) == accounts
    assert sorted(set(identity_table["邮箱"])) == sorted({mask_email(e) for e in emails})
    page = shown_text(at)
    assert not [e for e in emails if e in page]  # no full address anywhere on the page
    reveals = "SELECT count(*) FROM audit_log WHERE action = 'people.reveal_emails' AND entity_key = :p"
    assert sql(sample_db_url, reveals, p=str(pid))[0][0] == 0

    button(at, "显示完整邮箱（记入审计日志）").click().run()
    assert not at.exception, at.exception
    identity_table = next(d.value for d in at.dataframe if "提交署名" in d.value.columns)
    assert sorted({e.strip().lower() for e in identity_table["邮箱"]}) == emails
    assert sql(sample_db_url, reveals + " AND actor = 'admin'", p=str(pid))[0][0] == 1
    at.run()  # showing them again is not another look-up
    assert sql(sample_db_url, reveals, p=str(pid))[0][0] == 1
    button(at, "隐藏完整邮箱").click().run()
    assert not [e for e in emails if e in shown_text(at)]


def test_merging_two_people_on_the_page_lowers_the_communitys_contributor_count_by_one(
        monkeypatch, sample_db_url, capsys):
    counted = sql(sample_db_url, f"""SELECT p.id FROM ({COUNTED}) p
                                     WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = p.id
                                                   AND a.login IS NOT NULL) ORDER BY p.id""", community=COMMUNITY)
    first, second = counted[0][0], counted[1][0]  # both have commits in the community inside the window
    ref = sql(sample_db_url, "SELECT platform || ':' || login FROM accounts WHERE person_id = :p AND login IS NOT "
                             "NULL ORDER BY platform, login LIMIT 1", p=first)[0][0]
    addresses = [e for (e,) in sql(sample_db_url, "SELECT email FROM commit_identities WHERE person_id IN (:a, :b)",
                                   a=first, b=second)]
    before = signals(sample_db_url, capsys)["contributor_count"]

    at = search(run(monkeypatch, sample_db_url, ADMIN, PAGE), ref)
    assert at.selectbox(key="people_person").value == first
    field(at, "与之合并").set_value(str(second))
    at.text_input(key="merge_reason").set_value("同一人的两个账号")
    confirm_change(at, "合并")
    assert any("已合并" in s.value for s in at.success), [e.value for e in at.error]
    assert signals(sample_db_url, capsys)["contributor_count"] == before - 1
    assert one_person(sample_db_url, addresses) == first  # the smaller id is kept
    audit = sql(sample_db_url, "SELECT actor FROM audit_log WHERE action = 'people.merge'")
    assert audit == [("admin",)]
    assert sql(sample_db_url, "SELECT reason FROM identity_corrections WHERE kind = 'merge'") == [("同一人的两个账号",)]

    resolve_again(sample_db_url, capsys)  # the correction is replayed, not remembered in the people rows
    assert signals(sample_db_url, capsys)["contributor_count"] == before - 1
    assert one_person(sample_db_url, addresses) == first


def test_a_change_without_a_reason_is_refused_and_writes_nothing(monkeypatch, sample_db_url):
    pid, ref, _ = a_person_with_an_account_and_addresses(sample_db_url)
    corrections = "SELECT count(*) FROM identity_corrections"
    before = sql(sample_db_url, corrections)[0][0]
    at = search(run(monkeypatch, sample_db_url, ADMIN, PAGE), ref)
    confirm_change(at, "标记")  # the bot flag: the command line takes it without a reason, the page does not
    assert any("请说明原因" in e.value for e in at.error)
    assert sql(sample_db_url, corrections)[0][0] == before
    assert sql(sample_db_url, "SELECT is_bot FROM people WHERE id = :p", p=pid) == [(0,)]


def test_mapping_an_unverified_domain_lowers_the_communitys_org_count_by_one(monkeypatch, people_db_url, capsys):
    # the unverified organisation and the one it is mapped to both have commits in the community inside the window
    target = "山城鸿途软件有限公司（虚构）"
    attributed = f"""SELECT count(*) FROM commits c JOIN commit_identities ci ON ci.id = c.author_identity_id
        JOIN people p ON p.id = ci.person_id JOIN community_repositories cr ON cr.repository_id = c.repository_id
        JOIN communities m ON m.id = cr.community_id
        WHERE m.slug = :community AND NOT c.is_merge AND NOT p.is_bot AND {IN_WINDOW}"""
    unverified = sql(people_db_url, attributed + " AND ci.email LIKE :d AND p.id NOT IN "
                     "(SELECT person_id FROM affiliations)", community=COMMUNITY, d=f"%@{NEW_DOMAIN}")[0][0]
    dated = sql(people_db_url, attributed + """ AND EXISTS (SELECT 1 FROM affiliations f JOIN organisations o ON
        o.id = f.organisation_id WHERE f.person_id = p.id AND o.name = :t AND (f.start_date IS NULL OR
        f.start_date <= date(c.author_time)) AND (f.end_date IS NULL OR f.end_date > date(c.author_time)))""",
                community=COMMUNITY, t=target)[0][0]
    assert unverified > 0 and dated > 0
    before = signals(people_db_url, capsys)["org_count"]

    at = run(monkeypatch, people_db_url, ADMIN, PAGE)
    orgs = next(d.value for d in at.dataframe if "已验证" in d.value.columns)
    assert list(orgs[orgs["组织"] == NEW_DOMAIN]["已验证"]) == ["否（按域名）"]
    next(b for b in at.selectbox if b.label == "未验证的域名").select(NEW_DOMAIN)
    next(b for b in at.selectbox if b.label == "归属组织").select(target)
    at.text_input(key="map_reason").set_value("鸿途机器人是山城鸿途的子公司")
    confirm_change(at, "映射")
    assert any("已映射" in s.value for s in at.success), [e.value for e in at.error]
    assert signals(people_db_url, capsys)["org_count"] == before - 1
    orgs = next(d.value for d in at.dataframe if "已验证" in d.value.columns)
    assert NEW_DOMAIN not in list(orgs["组织"])
    assert NEW_DOMAIN in next(iter(orgs[orgs["组织"] == target]["域名"]))

    resolve_again(people_db_url, capsys)
    assert signals(people_db_url, capsys)["org_count"] == before - 1


def test_merging_two_organisations_on_the_page_lowers_the_org_count_by_one(monkeypatch, sample_db_url, capsys):
    both = sql(sample_db_url, f"""SELECT o.name FROM commits c JOIN commit_identities ci ON ci.id = c.author_identity_id
        JOIN people p ON p.id = ci.person_id JOIN community_repositories cr ON cr.repository_id = c.repository_id
        JOIN communities m ON m.id = cr.community_id JOIN affiliations f ON f.person_id = p.id
          AND (f.start_date IS NULL OR f.start_date <= date(c.author_time))
          AND (f.end_date IS NULL OR f.end_date > date(c.author_time))
        JOIN organisations o ON o.id = f.organisation_id
        WHERE m.slug = :community AND NOT c.is_merge AND NOT p.is_bot AND {IN_WINDOW}
        GROUP BY o.name ORDER BY count(*) DESC, o.name LIMIT 2""", community=COMMUNITY)
    source, target = both[0][0], both[1][0]  # both have people on their books committing there in the window
    before = signals(sample_db_url, capsys)["org_count"]

    at = run(monkeypatch, sample_db_url, ADMIN, PAGE)
    at.selectbox(key="merge_source").select(source)
    at.selectbox(key="merge_target").select(target)
    at.text_input(key="orgs_merge_reason").set_value("同一企业的两个名称")
    confirm_change(at, "合并组织")
    assert any("已把" in s.value for s in at.success), [e.value for e in at.error]
    assert signals(sample_db_url, capsys)["org_count"] == before - 1
    orgs = next(d.value for d in at.dataframe if "已并入" in d.value.columns)
    assert list(orgs[orgs["组织"] == source]["已并入"]) == [target]
    assert sql(sample_db_url, "SELECT count(*) FROM audit_log WHERE action = 'people.organisation_merge'") == [(1,)]

    resolve_again(sample_db_url, capsys)
    assert signals(sample_db_url, capsys)["org_count"] == before - 1


def test_an_evaluator_reads_but_has_nothing_to_change_and_the_tracker_refuses(monkeypatch, sample_db_url):
    from tracker.config import load_config
    from tracker.people.changes import apply_change
    from tracker.people.corrections import merge, merge_organisations
    from tracker.people.queries import reveal_person, search_people

    pid, ref, emails = a_person_with_an_account_and_addresses(sample_db_url)
    at = search(run(monkeypatch, sample_db_url, EVALUATOR, PAGE), ref)
    assert [t.label for t in at.tabs] == ["人员", "合并建议", "组织与域名"]
    assert any("登录名" in d.value.columns for d in at.dataframe) and any("已验证" in d.value.columns
                                                                        for d in at.dataframe)
    assert [b.label for b in at.button] == ["退出登录"]  # no reveal, no correction, no map, no merge
    assert [t.key for t in at.text_input] == ["people_search"]
    assert not [e for e in emails if e in shown_text(at)]
    config = load_config(CONFIG)
    for attempt in (lambda s: apply_change(s, EVALUATOR, config, lambda s, a, c: merge(s, a, str(pid), str(pid + 1),
                                                                                       "x"), reason="x"),
                    lambda s: merge(s, EVALUATOR, str(pid), str(pid + 1), "x"),
                    lambda s: merge_organisations(s, EVALUATOR, "华为技术有限公司", "西南大学", {}, "x"),
                    lambda s: reveal_person(s, EVALUATOR, str(pid)),
                    lambda s: search_people(s, EVALUATOR, ref, show_emails=True)):
        with pytest.raises(AccessDenied):
            with dbm.session_scope(sample_db_url) as s:
                attempt(s)
    assert sql(sample_db_url, "SELECT count(*) FROM audit_log WHERE action LIKE 'people.%'") == [(0,)]


def test_an_enterprise_user_is_refused_the_page_and_the_people(monkeypatch, sample_db_url):
    from tracker.people.queries import search_people

    enterprise = sql(sample_db_url, "SELECT id FROM enterprises ORDER BY id LIMIT 1")[0][0]
    actor = Actor("enterprise", "enterprise", enterprise)
    at = run(monkeypatch, sample_db_url, actor)
    assert "人员与组织" not in [p.title for p in allowed("enterprise")]
    at.switch_page("views/refused.py").run()
    assert at.title[0].value == "无权访问" and not at.dataframe
    with pytest.raises(AccessDenied):
        with dbm.session_scope(sample_db_url) as s:
            search_people(s, actor, None)


def test_marking_a_counted_person_a_bot_and_splitting_an_address_off(monkeypatch, sample_db_url, capsys):
    community = next(slug for (slug,) in sql(sample_db_url, "SELECT slug FROM communities ORDER BY slug") if sql(
        sample_db_url, f"""SELECT 1 FROM ({COUNTED}) p JOIN commit_identities ci ON ci.person_id = p.id
                           JOIN accounts a ON a.person_id = p.id AND a.login IS NOT NULL
                           GROUP BY p.id HAVING count(DISTINCT ci.email) >= 2""", community=slug))
    pid, ref, emails = a_person_with_an_account_and_addresses(sample_db_url, community)
    before = signals(sample_db_url, capsys, community)["contributor_count"]
    at = search(run(monkeypatch, sample_db_url, ADMIN, PAGE), ref)
    at.text_input(key="bot_reason").set_value("发布脚本账号")
    confirm_change(at, "标记")
    assert any("已标记" in s.value for s in at.success), [e.value for e in at.error]
    assert sql(sample_db_url, "SELECT is_bot FROM people WHERE id = :p", p=pid) == [(1,)]
    assert signals(sample_db_url, capsys, community)["contributor_count"] == before - 1  # metrics leave bots out

    chooser = next(b for b in at.selectbox if b.label == "拆出的邮箱或账号")
    assert mask_email(emails[-1]) in chooser.options and emails[-1] not in chooser.options
    chooser.select(emails[-1])
    at.text_input(key="split_reason").set_value("共用的地址")
    confirm_change(at, "拆分")
    assert any("已拆出" in s.value for s in at.success), [e.value for e in at.error]
    assert one_person(sample_db_url, emails) is None and one_person(sample_db_url, emails[:-1]) == pid
    assert [a for (a,) in sql(sample_db_url, "SELECT action FROM audit_log WHERE action LIKE 'people.%' ORDER BY id")] \
        == ["people.bot", "people.split"]
