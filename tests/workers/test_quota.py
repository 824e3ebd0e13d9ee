"""The shared quota: 4 workers over tokens with a small quota never spend more than it between them."""
from __future__ import annotations

from collections import Counter

import yaml

from tests.workers.conftest import REPOS, TOKEN, TOKEN_VAR, jobs, run_mtx, start_mtx, write_config  # noqa: F401
from tracker import db as dbm
from sqlalchemy import text

SECOND = "ghp_SECONDsecondsecondsecondsecondsecond02"
LIMIT = 20  # per token and window
WINDOW = 3.0


def test_four_workers_never_spend_more_than_the_tokens_quota(queue_db, emulator, tmp_path):
    repos = REPOS[:12]
    emulator.quotas.clear()
    emulator.tokens.clear()
    emulator.add_token(TOKEN, limit=LIMIT, window=WINDOW)
    emulator.add_token(SECOND, limit=LIMIT, window=WINDOW)
    config = write_config(tmp_path / "config", emulator.url, repos=repos, collection={"concurrency": 4})
    data = yaml.safe_load((config / "communities.yaml").read_text(encoding="utf-8"))
    data["platforms"]["github"]["token_env"] = [TOKEN_VAR, "MTX_TEST_SECOND_TOKEN"]
    (config / "communities.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = {"MTX_TEST_SECOND_TOKEN": SECOND}

    assert run_mtx(queue_db, config, "collect", "--enqueue", extra_env=env).returncode == 0
    emulator.clear_log()
    workers = [start_mtx(queue_db, config, "worker", "--once", "--concurrency", "2", extra_env=env)
               for _ in range(4)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], [err[-2000:] for _, err in outputs]

    charged = Counter(r.token_index for r in emulator.log if r.spent)
    refused = [r for r in emulator.log if r.status in (403, 429)]
    assert refused == []  # no request went out beyond a token's quota: the emulator never had to refuse one
    assert sum(charged.values()) > 2 * LIMIT  # the work needed more than one window of both tokens: workers waited
    for index in (0, 1):  # every window of every token: at most LIMIT charged (the emulator counts per window)
        assert emulator.quota([TOKEN, SECOND][index]).used <= LIMIT
    with dbm.get_engine(queue_db).connect() as conn:
        commits = conn.execute(text("SELECT COUNT(*) FROM commits")).scalar()
        hashes = conn.execute(text("SELECT token_hash, env_var FROM mtx_token_quota")).all()
    assert commits == sum(len(emulator.world.repo_by_name(p).commits) for p in repos)
    assert {v for _, v in hashes} == {TOKEN_VAR, "MTX_TEST_SECOND_TOKEN"}
    assert all(TOKEN not in h and SECOND not in h and len(h) == 64 for h, _ in hashes)  # a hash, never the value
    assert jobs(queue_db) == []


def test_a_platform_without_rate_limit_headers_keeps_to_its_configured_quota(queue_db, emulator, tmp_path):
    """Gitee sends no x-ratelimit headers: `platforms.gitee.quota` says what a token may spend per window."""
    repos = REPOS[:8]
    emulator.quotas.clear()
    emulator.tokens.clear()
    emulator.add_token(TOKEN, limit=LIMIT, window=WINDOW)
    config = tmp_path / "config"
    config.mkdir()
    (config / "communities.yaml").write_text(yaml.safe_dump({
        "platforms": {"gitee": {"api_url": emulator.url + "/api/v5", "token_env": [TOKEN_VAR],
                                "quota": {"requests": LIMIT, "window_seconds": WINDOW}}},
        "communities": [{"slug": "acme", "name": "示例社区", "focus": "automotive",
                         "repositories": [{"platform": "gitee", "path": p} for p in repos]}],
    }, allow_unicode=True), encoding="utf-8")
    assert run_mtx(queue_db, config, "collect", "--enqueue").returncode == 0
    emulator.clear_log()
    workers = [start_mtx(queue_db, config, "worker", "--once", "--concurrency", "2") for _ in range(4)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], [err[-2000:] for _, err in outputs]
    assert [r for r in emulator.log if r.status in (403, 429)] == []
    assert sum(1 for r in emulator.log if r.spent) > LIMIT  # more than one window's worth: the workers waited
    with dbm.get_engine(queue_db).connect() as conn:
        commits = conn.execute(text("SELECT COUNT(*) FROM commits")).scalar()
        row = conn.execute(text("SELECT quota_limit, window_seconds FROM mtx_token_quota")).one()
    assert commits == sum(len(emulator.world.repo_by_name(p).commits) for p in repos)
    assert tuple(row) == (LIMIT, WINDOW)


class _Credential:
    def __init__(self, value: str, env_var: str = "T") -> None:
        self.value, self.env_var = value, env_var


def test_reservations_count_down_refund_free_304s_and_follow_the_headers(queue_db):
    from collector.ratelimit import Quota
    from tracker.quota import ROLL_MARGIN, ConfiguredQuota, SharedQuota

    now = 1_000_000.0
    ledger = SharedQuota(queue_db, {"gitee": ConfiguredQuota(3, 10.0)})
    gitee = _Credential("gitee-token")
    assert [ledger.reserve("gitee", gitee, now) for _ in range(3)] == [None, None, None]
    assert ledger.reserve("gitee", gitee, now) == now + 10.0 + ROLL_MARGIN  # spent until the window ends
    ledger.settle("gitee", gitee, now, refund=True, quota=None)  # an answer that cost nothing gives it back
    assert ledger.reserve("gitee", gitee, now) is None
    assert ledger.reserve("gitee", gitee, now + 11.5) is not None  # next window, but 3 are still in flight
    for _ in range(3):
        ledger.settle("gitee", gitee, now + 11.5, refund=False, quota=None)
    assert [ledger.reserve("gitee", gitee, now + 11.5) for _ in range(4)] == [None, None, None, now + 21.5 + ROLL_MARGIN]

    github = _Credential("github-token")
    assert ledger.reserve("github", github, now) is None  # unknown quota: the first answers tell it
    assert ledger.reserve("github", github, now) is None
    ledger.settle("github", github, now, refund=False, quota=Quota(remaining=2, limit=5, reset_at=now + 60))
    # the server says 2 left, but another reservation is still in flight: 1 may be taken
    assert ledger.reserve("github", github, now) is None
    assert ledger.reserve("github", github, now) == now + 60 + ROLL_MARGIN
    ledger.settle("github", github, now, refund=False, quota=Quota(remaining=9, limit=5, reset_at=now + 60))
    assert ledger.reserve("github", github, now) == now + 60 + ROLL_MARGIN  # never raised within a window
    assert ledger.reserve("github", github, now + 62) is None  # a new window: the limit minus what is in flight
    with dbm.get_engine(queue_db).connect() as conn:
        remaining, in_flight = conn.execute(text(
            "SELECT remaining, in_flight FROM mtx_token_quota WHERE env_var = 'T' AND platform = 'github'")).one()
    assert (remaining, in_flight) == (5 - 1 - 1, 2)  # one unsettled before the new window, one just taken
