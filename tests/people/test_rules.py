"""The identity rules, table by table: plain values in, people out (no database)."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from tracker.people import rules as R

D = dt.date


# --- normalisation, noreply, anonymous --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("  ZhangSan@Huawei.COM ", "zhangsan@huawei.com"),
    ("<a@b.cn>", "a@b.cn"),
    ("ｚｈａｎｇ＠ｑｑ．ｃｏｍ", "zhang@qq.com"),  # full-width (NFKC)
    (None, ""),
])
def test_normalise_email(raw, expected):
    assert R.normalise_email(raw) == expected


@pytest.mark.parametrize("email, expected", [
    ("12345+octocat@users.noreply.github.com", ("github", "octocat")),
    ("octocat@users.noreply.github.com", ("github", "octocat")),  # legacy form without the id
    ("4242-jdoe@users.noreply.gitlab.com", ("gitlab", "jdoe")),
    ("778899+zhang-san@user.noreply.gitee.com", ("gitee", "zhang-san")),
    ("zhang-san@user.noreply.gitee.com", ("gitee", "zhang-san")),
    ("openharmony_ci@noreply.gitcode.com", ("gitcode", "openharmony_ci")),
    ("123+lisi@user.noreply.gitcode.com", ("gitcode", "lisi")),
    ("a8f3.wangwu@noreply.gitcode.com", ("gitcode", "wangwu")),  # random prefix
    ("ci-runner@users.noreply.atomgit.com", ("gitcode", "ci-runner")),  # AtomGit is GitCode's host
    ("noreply@github.com", None),  # web commits: no login, and never the domain
    ("someone@github.com", None),
    ("4242@users.noreply.gitlab.com", None),  # id only: no login to match
])
def test_noreply_forms_name_the_login_never_the_domain(email, expected):
    assert R.parse_noreply(email) == expected


@pytest.mark.parametrize("email, anonymous", [
    ("", True), ("no-at-sign", True), ("noreply@github.com", True), ("noreply@gitee.com", True),
    ("root@localhost", True), ("dev@localhost.localdomain", True), ("me@buildhost.local", True),
    ("test@example.com", True), ("x@example.org", True), ("y@example.net", True),
    ("ci@internal.corp", True),  # identities.yaml anonymous_emails pattern below
    ("zhangsan@huawei.com", False), ("a@mail.example.com", False),  # a subdomain of example.com is a real host
    ("12345+octocat@users.noreply.github.com", False),  # platform-private: identifies its account
])
def test_addresses_that_identify_nobody(email, anonymous):
    assert R.is_anonymous(email, ["*@internal.corp"]) is anonymous


@pytest.mark.parametrize("email, masked", [("zhangsan@huawei.com", "zh***@huawei.com"), ("a@b.cn", "a***@b.cn"),
                                           ("", "")])
def test_mask_email(email, masked):
    assert R.mask_email(email) == masked


@pytest.mark.parametrize("text, key", [("ZhangSan@Huawei.com", "e:zhangsan@huawei.com"),
                                       ("GitCode:ZhangSan", "l:gitcode:zhangsan"),
                                       ("atomgit:ci", "l:gitcode:ci")])
def test_parse_ref(text, key):
    assert R.parse_ref(text) == key


@pytest.mark.parametrize("text", ["noreply@github.com", "zhangsan", "bitbucket:x"])
def test_parse_ref_refuses_what_names_nobody(text):
    with pytest.raises(ValueError):
        R.parse_ref(text)


# --- organisations ----------------------------------------------------------------------------------------------------

DOMAINS = R.DomainRules(
    corrections={"h-partners.com": "华为技术有限公司", "oldmail.cn": R.INDIVIDUAL},
    configured={"huawei.com": "华为技术有限公司", "cqu.edu.cn": "重庆大学", "kaihong.com": "深开鸿",
                "kaihongdigi.com": "深开鸿"},
    free_mail=frozenset({"qq.com", "163.com"}))


@pytest.mark.parametrize("email, name, verified", [
    ("zh@huawei.com", "华为技术有限公司", True),
    ("li@mail.cqu.edu.cn", "重庆大学", True),  # a subdomain matches its parent
    ("a@kaihong.com", "深开鸿", True), ("b@kaihongdigi.com", "深开鸿", True),  # two domains, one organisation
    ("c@h-partners.com", "华为技术有限公司", True),  # an administrator's domain map
    ("120357966@qq.com", None, True), ("x@vip.163.com", None, True),  # free mail: an individual
    ("d@oldmail.cn", None, True),  # mapped to individual
    ("e@mail.ustc.edu.cn", "ustc.edu.cn", False),  # unmapped: the registrable domain, unverified
    ("f@corp.kaihong.com.cn", "kaihong.com.cn", False),
    ("openharmony_ci@noreply.gitcode.com", None, True),  # noreply: no organisation
    ("root@localhost", None, True),
])
def test_organisation_of_an_address(email, name, verified):
    answer = DOMAINS.for_email(email)
    assert (answer.name, answer.verified) == (name, verified), answer.reason


# --- people -----------------------------------------------------------------------------------------------------------


def people(identities, accounts=(), **rules) -> list[set[str]]:
    """Components as sets of 'identity:<id>' / 'account:<id>' labels, for order-free comparison."""
    out = R.resolve([R.IdentityIn(*i) for i in identities], [R.AccountIn(*a) for a in accounts], R.Rules(**rules))
    return sorted(({f"i{i}" for i in c.identities} | {f"a{a}" for a in c.accounts} for c in out.components),
                  key=lambda s: sorted(s))


def outcome(identities, accounts=(), **rules) -> R.Outcome:
    return R.resolve([R.IdentityIn(*i) for i in identities], [R.AccountIn(*a) for a in accounts], R.Rules(**rules))


OH_BOT = dict(
    identities=[(1, "120357966@qq.com", "openharmony_ci", 10), (2, "openharmony_ci@noreply.gitcode.com",
                                                                  "openharmony_ci", None)],
    accounts=[(10, "gitcode", "openharmony_ci", "openharmony_ci", None)])


def test_bot_with_two_addresses_is_one_bot():
    out = outcome(**OH_BOT, bots=R.BotRules(patterns=(r"^openharmony_ci$",)))
    assert len(out.components) == 1
    bot = out.components[0]
    assert bot.is_bot and "openharmony_ci" in bot.bot_reason and bot.identities == [1, 2]
    assert out.identity_rule[1] == (R.RULE_LINKED, "gitcode:openharmony_ci")
    assert out.identity_rule[2] == (R.RULE_NOREPLY, "gitcode:openharmony_ci")


def test_one_address_under_two_names_is_one_person():
    out = outcome([(1, "cyw@kaihong.com", "chen yi wen", None), (2, "CYW@kaihong.com ", "temptest_01", None)])
    assert [c.identities for c in out.components] == [[1, 2]]
    assert out.components[0].name == "chen yi wen"
    assert out.identity_rule[1] == (R.RULE_EMAIL, None)


def test_the_same_address_on_two_platforms_is_one_person_and_links_both_accounts():
    got = people([(1, "zs@huawei.com", "张三", 10), (2, "zs@huawei.com", "张三", 20)],
                 [(10, "gitee", "zhangsan", "张三", None), (20, "github", "zs-hw", "张三", None)])
    assert got == [{"i1", "i2", "a10", "a20"}]


def test_anonymous_addresses_never_join_and_count_once_per_address_and_name():
    got = people([(1, "root@localhost", "alice", None), (2, "root@localhost", "bob", None),
                  (3, "root@localhost", "alice", None), (4, "alice@qq.com", "alice", None)])
    assert got == [{"i1", "i3"}, {"i2"}, {"i4"}]


def test_an_anonymous_address_with_a_linked_account_belongs_to_the_account():
    got = people([(1, "noreply@github.com", "Web", 10), (2, "w@qq.com", "w", 10)],
                 [(10, "github", "webber", "Web", None)])
    assert got == [{"i1", "i2", "a10"}]


def test_a_same_platform_chain_becomes_a_suggestion():
    # one address used by two different gitee accounts: not merged, suggested
    out = outcome([(1, "shared@corp.cn", "A", 10), (2, "shared@corp.cn", "B", 20)],
                  [(10, "gitee", "alpha", "A", None), (20, "gitee", "beta", "B", None)])
    got = sorted(({f"i{i}" for i in c.identities} | {f"a{a}" for a in c.accounts} for c in out.components), key=len)
    assert got == [{"a20"}, {"i1", "i2", "a10"}]  # the address decides; the refused account stays apart
    assert [(s.rule, s.a, s.b) for s in out.suggestions] == [("same-platform", "e:shared@corp.cn", "l:gitee:beta")]
    assert "gitee:alpha" in out.suggestions[0].detail and "gitee:beta" in out.suggestions[0].detail


def test_the_same_login_on_two_platforms_is_only_a_suggestion():
    out = outcome([(1, "a@x.cn", "a", 10), (2, "b@y.cn", "b", 20)],
                  [(10, "github", "lisi", "a", None), (20, "gitee", "lisi", "b", None)])
    assert len(out.components) == 2
    assert [(s.rule, s.a, s.b) for s in out.suggestions] == [("same-login", "l:gitee:lisi", "l:github:lisi")]


def test_never_merge_on_a_name_alone():
    assert people([(1, "dave@a.cn", "dave", None), (2, "dave@b.cn", "dave", None)]) == [{"i1"}, {"i2"}]


def test_bots_by_platform_flag_by_email_by_name_and_the_administrators_word():
    cases = [
        (dict(accounts=[(10, "github", "renovate[bot]", None, None, True)]), True),
        (dict(bots=R.BotRules(emails=frozenset({"ci@corp.cn"}))), True),
        (dict(bots=R.BotRules(patterns=(r"\[bot\]$",))), True),
        (dict(accounts=[(10, "github", "renovate[bot]", None, None, True)],
              corrections=(R.Correction(1, "bot", "e:ci@corp.cn", is_bot=False),)), False),
        (dict(people=(R.PersonRule("CI", ("e:ci@corp.cn",), is_bot=True),)), True),
        (dict(), False),
    ]
    for extra, expected in cases:
        accounts = extra.pop("accounts", [(10, "github", "someone", None, None, False)])
        out = outcome([(1, "ci@corp.cn", "dependabot[bot]", 10)], accounts, **extra)
        assert [c.is_bot for c in out.components] == [expected], extra


def test_corrections_merge_split_distinct_and_the_file():
    base = [(1, "zs@huawei.com", "张三", None), (2, "zhangsan@qq.com", "张三", None), (3, "zs@kaihong.com", "张三", None)]
    assert people(base) == [{"i1"}, {"i2"}, {"i3"}]
    file_person = R.PersonRule("张三", ("e:zs@huawei.com", "e:zhangsan@qq.com", "e:zs@kaihong.com"))
    assert people(base, people=(file_person,)) == [{"i1", "i2", "i3"}]
    merge = R.Correction(1, "merge", "e:zs@huawei.com", "e:zhangsan@qq.com")
    assert people(base, corrections=(merge,)) == [{"i1", "i2"}, {"i3"}]
    # the database wins over the file: a split takes the address out of the file's person
    split = R.Correction(2, "split", "e:zs@kaihong.com")
    assert people(base, people=(file_person,), corrections=(split,)) == [{"i1", "i2"}, {"i3"}]
    # a later merge undoes a split's effect on that pair; a later distinct undoes a merge
    assert people(base, corrections=(split, R.Correction(3, "merge", "e:zs@kaihong.com", "e:zs@huawei.com"))) == \
        [{"i1", "i3"}, {"i2"}]
    assert people(base, corrections=(merge, R.Correction(4, "distinct", "e:zhangsan@qq.com", "e:zs@huawei.com"))) \
        == [{"i1"}, {"i2"}, {"i3"}]
    # identities.yaml distinct keeps a pair apart that the automatic rules would join
    linked = [(1, "a@x.cn", "a", 10), (2, "b@y.cn", "b", 10)]
    account = [(10, "github", "ab", "a", None)]
    assert people(linked, account) == [{"i1", "i2", "a10"}]
    assert len(people(linked, account, distinct=(("e:a@x.cn", "e:b@y.cn"),))) == 2


def test_resolution_does_not_depend_on_arrival_order():
    rng = random.Random(5)
    identities = [(i, f"u{i % 40}@corp{i % 3}.cn", f"name{i % 50}", 100 + (i % 25) if i % 4 else None)
                  for i in range(1, 301)]
    identities += [(400 + i, f"{i}+u{i}@users.noreply.github.com", "n", None) for i in range(10)]
    accounts = [(100 + k, ("github", "gitee")[k % 2], f"u{k % 13}", None, None) for k in range(25)]
    first = people(identities, accounts)
    for _ in range(5):
        rng.shuffle(identities)
        rng.shuffle(accounts)
        assert people(identities, accounts) == first


@pytest.mark.parametrize("entries, expected", [
    # a job change: the old job ends the day the new one starts (end exclusive)
    ([("A", None, D(2024, 3, 1), "f"), ("B", D(2024, 3, 1), None, "f")],
     [("A", None, D(2024, 3, 1), "f"), ("B", D(2024, 3, 1), None, "f")]),
    # a correction (first) wins over an overlapping file entry, which keeps what is left
    ([("C", D(2024, 1, 1), D(2024, 7, 1), "correction"), ("A", None, None, "identities.yaml")],
     [("A", None, D(2024, 1, 1), "identities.yaml"), ("C", D(2024, 1, 1), D(2024, 7, 1), "correction"),
      ("A", D(2024, 7, 1), None, "identities.yaml")]),
    ([], []),
])
def test_dated_affiliations_paint_one_timeline(entries, expected):
    assert R.paint(entries) == expected
