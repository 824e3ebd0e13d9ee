"""The OpenHarmony certificate award ledger (policy item 10): certificates in, awards out, under config/awards.yaml.

Pure rules: `uscc` (统一社会信用代码), `versions`, `columns` (cell parsers), `rules` (eligibility), `allocation`.
Database work, each function taking the acting user: `importer`, `certificates`, `awards`, `export`.
"""
from tracker.ledger.awards import (  # noqa: F401
    AwardError, ApprovalOutcome, RecomputeSummary, approve_awards, enterprise_balance, lock_enterprises, pay_award,
    recompute_awards, revoke_certificate)
from tracker.ledger.certificates import list_certificates  # noqa: F401
from tracker.ledger.importer import import_certificates  # noqa: F401
from tracker.ledger.rules import load_rule_set, rules_from_config  # noqa: F401
