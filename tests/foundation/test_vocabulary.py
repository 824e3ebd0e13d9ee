"""Each vocabulary is defined once (tracker.vocab, or common.vocabulary for what the collector needs too), and the
places that used to keep their own copies read it."""
from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

import collector
import tracker.models as models
from common.bilingual import BilingualError
from tracker import vocab
from tracker.access import AccessDenied, Actor, Role, require_role
from tracker.config import FocusField
from tracker.ledger.awards import AwardError

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("tracker", "collector", "common", "views") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]


def test_the_collector_and_the_models_read_the_same_streams_and_states():
    assert collector.STREAMS is vocab.STREAMS.values
    assert models.STREAMS == ("repo", "commits", "releases", "contributors", "issues", "pulls")
    assert typing.get_args(collector.records.RepoState) == vocab.REPO_STATES.values == models.REPO_STATES
    assert typing.get_args(collector.records.PullState) == ("open", "closed", "merged")


def test_roles_and_focus_fields_come_from_the_vocabulary():
    assert typing.get_args(Role) == vocab.ROLES.values == ("admin", "evaluator", "enterprise")
    assert typing.get_args(FocusField) == vocab.FOCUS_FIELDS.values
    assert vocab.ROLES.zh("evaluator") == "评审专家"


def test_result_statuses_include_partial_and_score_statuses_are_ranked_or_unavailable():
    assert "partial" in vocab.RESULT_STATUSES and vocab.RESULT_STATUSES.zh("partial") == "部分完成"
    assert vocab.SCORE_STATUSES.labels() == {"ranked": "已排名", "unavailable": "数据不足",
                                             "too_few_experts": "评审专家不足", "failed_check": "形式审查未通过"}


def test_award_status_properties():
    assert vocab.COUNTING_AWARD_STATUSES == ("computed", "approved", "paid")
    assert vocab.DECIDED_AWARD_STATUSES == ("approved", "paid")
    assert vocab.FROZEN_AWARD_STATUSES == ("approved", "paid", "to_recover", "released")
    assert vocab.AWARD_STATUSES.zh("not_computed") == "未核算"  # shown, never stored
    assert "not_computed" not in vocab.AWARD_STATUSES


@pytest.mark.parametrize("text, value", [("有效", "valid"), ("正常", "valid"), ("Revoked", "revoked"),
                                         ("已吊销", "revoked"), ("作废", None)])
def test_certificate_status_spellings(text, value):
    assert vocab.CERT_STATUSES.parse(text) == value


def test_the_old_disagreeing_award_labels_are_gone_from_the_code():
    wrong = re.compile("已测算|已审批|已支付")
    assert [str(p.relative_to(ROOT)) for p in SOURCES if wrong.search(p.read_text(encoding="utf-8"))] == []


def test_errors_carry_chinese_and_english_apart():
    with pytest.raises(AccessDenied) as caught:
        require_role(Actor("e1", "evaluator"), "admin", action="approve awards")
    error = caught.value
    assert isinstance(error, BilingualError) and isinstance(error, PermissionError)
    assert error.zh == "用户 e1（评审专家）无权执行此操作"
    assert error.en == "e1 (evaluator) may not do approve awards; it needs 管理员 admin"
    assert str(error) == f"{error.zh} / {error.en}"
    assert str(AwardError("撤销须写明原因", "give a reason")) == "撤销须写明原因 / give a reason"


def test_secrets_are_masked_in_one_module():
    """The copies that collector/http.py, collector/gitee.py, tracker/config.py and the job kept are gone. (Migration
    0004 keeps its own copy on purpose: a migration must do forever what it did when written.)"""
    masking = re.compile(r"""\.replace\(secret|\.sub\(r?["'][^"']*\*\*\*""")
    found = [str(p.relative_to(ROOT)) for p in SOURCES
             if "migrations" not in p.parts and masking.search(p.read_text(encoding="utf-8"))]
    assert found == ["common/redaction.py"]
