"""`mtx people` and `mtx orgs` end to end: masked listings, corrections (audited), roles, export."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from sqlalchemy import select

from tests.people.conftest import EXPECTED_HUMANS
from tracker import db as dbm
from tracker.access import SYSTEM
from tracker.cli import main
from tracker.models import AuditEntry, CommitIdentity, IdentityCorrection, PersonSuggestion
from tracker.users import create_user

pytestmark = pytest.mark.postgres


@pytest.fixture
def mtx(world_url, people_config, capsys):
    def run(*args: str, user: str = "office") -> tuple[int, str, str]:
        code = main(["--db", world_url, "--config", str(people_config), "--as", user, *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("people", "resolve")[0] == 0
    with dbm.session_scope(world_url) as s:
        create_user(s, SYSTEM, "expert", "evaluator", "expert-password-1")
    return run


def person_of(url: str, email: str) -> int:
    with dbm.session_scope(url) as s:
        return s.scalar(select(CommitIdentity.person_id).where(CommitIdentity.email == email))


def test_list_masks_emails_unless_an_administrator_asks(mtx):
    code, out, err = mtx("people", "list", "--json", user="expert")
    assert code == 0, err
    rows = json.loads(out)
    assert len([r for r in rows if not r["is_bot"]]) == EXPECTED_HUMANS
    zhang = next(r for r in rows if r["name"] == "张三")
    assert zhang["emails"] == ["zh***@huawei.com"] and zhang["accounts"] == ["gitcode:zhangsan"]
    assert zhang["commits"] == 2 and zhang["first_commit"].startswith("2024-02-29")
    assert "zhangsan@huawei.com" not in out
    code, _, err = mtx("people", "list", "--show-emails", user="expert")
    assert code == 1 and "--show-emails" in err
    code, out, _ = mtx("people", "list", "--show-emails", "--json")
    assert "zhangsan@huawei.com" in out


def test_every_look_at_full_addresses_is_audited_without_them(mtx, world_url):
    def reveals() -> list[AuditEntry]:
        with dbm.session_scope(world_url) as s:
            found = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "people.reveal_emails")
                                   .order_by(AuditEntry.id)))
            s.expunge_all()
            return found

    assert mtx("people", "list", "--json")[0] == 0 and reveals() == []  # masked: nothing to audit
    code, out, _ = mtx("people", "list", "--show-emails", "--json", "--search", "zhang")
    assert code == 0
    shown = json.loads(out)
    code, _, _ = mtx("people", "show", "gitcode:zhangsan", "--show-emails", "--json")
    assert code == 0
    code, _, _ = mtx("people", "suggest", "--show-emails", "--json")
    assert code == 0
    entries = reveals()
    assert [(e.actor, e.entity) for e in entries] == [("office", "people"), ("office", "person"),
                                                      ("office", "person_suggestions")]
    assert entries[0].after["rows"] == len(shown) and entries[0].after["search"] == "zhang"
    assert all("@" not in json.dumps(e.after) for e in entries)  # who looked and how much, never the addresses
    assert mtx("people", "list", "--show-emails", user="expert")[0] == 1
    assert len(reveals()) == 3  # a refused look writes nothing
    bots = json.loads(mtx("people", "list", "--bots", "--json")[1])
    assert sorted(r["name"] for r in bots) == ["openharmony_ci", "renovate[bot]"]
    found = json.loads(mtx("people", "list", "--search", "zhaoliu", "--json")[1])
    assert [r["accounts"] for r in found] == [["gitee:zhaoliu"]]
    assert mtx("people", "list", "--community", "nope")[0] == 1


def test_show_says_why_each_join(mtx):
    code, out, err = mtx("people", "show", "gitcode:openharmony_ci", "--json", user="expert")
    assert code == 0, err
    data = json.loads(out)
    assert data["is_bot"] and data["commits"] == 2
    rules = {i["email"]: (i["rule"], i["via"]) for i in data["identities"]}
    assert rules == {"12***@qq.com": ("linked-account", "gitcode:openharmony_ci"),
                     "op***@noreply.gitcode.com": ("noreply", "gitcode:openharmony_ci")}
    code, out, _ = mtx("people", "show", "zhangsan@huawei.com")
    assert code == 0 and "华为技术有限公司" in out and "2024-03-01" in out and "identities.yaml" in out
    assert mtx("people", "show", "nobody@nowhere.cn")[0] == 1


def test_merge_split_bot_and_map_are_audited_corrections(mtx, world_url):
    lisi, student = person_of(world_url, "lisi@h-partners.com"), person_of(world_url, "stu@mail.ustc.edu.cn")
    assert mtx("people", "merge", str(lisi), "stu@mail.ustc.edu.cn", user="expert")[0] == 1  # evaluators read only
    assert mtx("people", "merge", str(lisi), "stu@mail.ustc.edu.cn")[0] == 1  # a reason is required
    code, out, err = mtx("people", "merge", str(lisi), "stu@mail.ustc.edu.cn", "--reason", "same student")
    assert code == 0, err
    assert person_of(world_url, "stu@mail.ustc.edu.cn") == person_of(world_url, "lisi@h-partners.com") == \
        min(lisi, student)
    assert "merged away" in out
    code, _, err = mtx("people", "split", str(min(lisi, student)), "stu@mail.ustc.edu.cn", "--reason", "not the same")
    assert code == 0, err
    assert person_of(world_url, "stu@mail.ustc.edu.cn") != person_of(world_url, "lisi@h-partners.com")
    assert mtx("people", "split", str(lisi), "zhangsan@huawei.com", "--reason", "x")[0] == 1  # not lisi's
    wangwu = person_of(world_url, "wangwu@kaihongdigi.com")
    assert mtx("people", "bot", str(wangwu), "--yes")[0] == 0
    assert str(wangwu) in {str(r["id"]) for r in json.loads(mtx("people", "list", "--bots", "--json")[1])}
    code, _, err = mtx("orgs", "map", "h-partners.com", "华为技术有限公司")
    assert code == 0, err
    orgs = {r["name"]: r for r in json.loads(mtx("orgs", "list", "--json", user="expert")[1])}
    assert "h-partners.com" not in orgs and "h-partners.com" in orgs["华为技术有限公司"]["domains"]
    unverified = [r["name"] for r in json.loads(mtx("orgs", "list", "--unverified", "--json")[1])]
    assert unverified == ["ustc.edu.cn"]
    assert mtx("orgs", "map", "x.cn", "No Such Org")[0] == 1
    with dbm.session_scope(world_url) as s:
        actions = [a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.action.like("people.%"))
                                           .order_by(AuditEntry.id))]
        assert actions == ["people.merge", "people.split", "people.bot", "people.domain"]
        kinds = [k for (k,) in s.execute(select(IdentityCorrection.kind).order_by(IdentityCorrection.id))]
        assert kinds == ["merge", "split", "bot", "domain"]
        # keyed by address or platform:login, never by person id
        assert all(not c.subject.isdigit() for c in s.scalars(select(IdentityCorrection)))


def test_suggestions_are_accepted_or_rejected(mtx, world_url):
    with dbm.session_scope(world_url) as s:  # the same login on gitee as on gitcode: a suggestion
        s.add(PersonSuggestion(key_a="l:gitcode:zhangsan", key_b="l:gitee:zhaoliu", rule="same-login", detail="x"))
    suggestions = json.loads(mtx("people", "suggest", "--json", user="expert")[1])
    assert [s["rule"] for s in suggestions] == ["same-login"]
    code, _, err = mtx("people", "suggest", "--reject", str(suggestions[0]["id"]))
    assert code == 0, err
    assert json.loads(mtx("people", "suggest", "--json")[1]) == []  # resolution drops what the rules do not make
    assert mtx("people", "suggest", "--accept", "999")[0] == 1


def test_export_rules_writes_identities_yaml(mtx, world_url, tmp_path):
    assert mtx("people", "merge", "lisi@h-partners.com", "gitee:zhaoliu", "--reason", "one person")[0] == 0
    assert mtx("people", "affiliate", "gitee:zhaoliu", "重庆大学", "--start", "2024-01-01", "--reason", "hired")[0] == 0
    target = tmp_path / "exported.yaml"
    code, out, err = mtx("people", "export-rules", str(target))
    assert code == 0, err
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert data == {"people": [{"name": "lisi@h-partners.com", "emails": ["lisi@h-partners.com"],
                                "accounts": [{"platform": "gitee", "login": "zhaoliu"}],
                                "affiliations": [{"organisation": "重庆大学", "start": dt.date(2024, 1, 1)}]}],
                    "distinct": []}
    # the exported file is a valid identities.yaml that gives the same person without the database
    from tracker.config import IdentitiesFile

    assert IdentitiesFile.model_validate(data).people[0].accounts[0].login == "zhaoliu"
    assert person_of(world_url, "lisi@h-partners.com") == person_of(world_url, "zhaoliu@163.com")


def test_config_check_warns_where_the_database_and_the_files_disagree(mtx, people_config):
    code, out, err = mtx("config", "check", "--json")
    assert code == 0 and json.loads(out)["problems"] == []
    assert mtx("people", "bot", "zhangsan@huawei.com", "--yes", "--reason", "a script account")[0] == 0
    assert mtx("orgs", "map", "huawei.com", "深开鸿", "--reason", "moved")[0] == 0
    identities = yaml.safe_load((people_config / "identities.yaml").read_text(encoding="utf-8"))
    identities["people"][0]["is_bot"] = False
    identities["distinct"] = [["lisi@h-partners.com", "stu@mail.ustc.edu.cn"]]
    (people_config / "identities.yaml").write_text(yaml.safe_dump(identities, allow_unicode=True), encoding="utf-8")
    assert mtx("people", "merge", "lisi@h-partners.com", "stu@mail.ustc.edu.cn", "--reason", "same")[0] == 0
    code, out, err = mtx("config", "check", "--json")
    assert code == 0, err  # warnings, not errors: the database wins
    problems = {(p["key"], p["severity"]) for p in json.loads(out)["problems"]}
    assert problems == {("people[0].is_bot", "warning"), ("distinct[0]", "warning"),
                        ("organisations[0].domains[0]", "warning")}


def organisation_of(url: str, email: str) -> str | None:
    from tracker.models import Organisation

    with dbm.session_scope(url) as s:
        return s.scalar(select(Organisation.name)
                        .join(CommitIdentity, CommitIdentity.organisation_id == Organisation.id)
                        .where(CommitIdentity.email == email))


def test_merging_organisations_folds_domains_affiliations_and_unverified_ones(mtx, world_url, tmp_path):
    assert mtx("orgs", "merge", "ustc.edu.cn", "重庆大学")[0] == 1  # a reason is required
    assert mtx("orgs", "merge", "ustc.edu.cn", "重庆大学", "--reason", "x", user="expert")[0] == 1  # admins only
    assert mtx("orgs", "merge", "ustc.edu.cn", "No Such Org", "--reason", "x")[0] == 1
    code, _, err = mtx("orgs", "merge", "ustc.edu.cn", "重庆大学", "--reason", "a campus of it (fiction)")
    assert code == 0, err
    assert organisation_of(world_url, "stu@mail.ustc.edu.cn") == "重庆大学"  # the unverified one, by its domain
    # an alias names the organisation: 深开鸿 (alias Kaihong) into 华为 — its domains and a dated affiliation follow
    code, _, err = mtx("orgs", "merge", "Kaihong", "华为技术有限公司", "--reason", "bought (fiction)")
    assert code == 0, err
    assert organisation_of(world_url, "cyw@kaihong.com") == organisation_of(world_url, "wangwu@kaihongdigi.com") == \
        "华为技术有限公司"
    zhang = json.loads(mtx("people", "show", "zhangsan@huawei.com", "--json")[1])
    assert {f["organisation"] for f in zhang["affiliations"]} == {"华为技术有限公司"}
    assert mtx("orgs", "merge", "华为技术有限公司", "深开鸿", "--reason", "a cycle")[0] == 1
    orgs = {r["name"]: r for r in json.loads(mtx("orgs", "list", "--json", user="expert")[1])}
    assert "ustc.edu.cn" not in orgs and orgs["深开鸿"]["merged_into"] == "华为技术有限公司"
    assert orgs["深开鸿"]["contributors"] == 0 and orgs["华为技术有限公司"]["contributors"] == 3  # 张三, 陈, 王五
    with dbm.session_scope(world_url) as s:
        actions = [a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.action.like("people.%")))]
        assert actions == ["people.organisation_merge", "people.organisation_merge"]
    from tracker.people import state  # a fresh resolution replays them

    with dbm.session_scope(world_url) as s:
        state.forget(s.connection())
    assert mtx("people", "resolve")[0] == 0
    assert organisation_of(world_url, "cyw@kaihong.com") == "华为技术有限公司"
    assert organisation_of(world_url, "stu@mail.ustc.edu.cn") == "重庆大学"
    assert mtx("people", "export-rules", str(tmp_path / "rules.yaml"))[0] == 0
    assert "#   深开鸿 -> 华为技术有限公司" in (tmp_path / "rules.yaml").read_text(encoding="utf-8")
