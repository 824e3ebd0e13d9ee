"""The app's warm-up (views/figures.py): the default ranking and the organisation counts are computed before anyone
asks, again after each change of the data, and what it computed is what the pages then get from the cache."""
from __future__ import annotations

import json
import shutil
import time

import pytest
from sqlalchemy import create_engine, text

import tracker.scoring.live
from tests.app.test_ranking import CONFIG
from tracker import db as dbm
from tracker.access import Actor
from tracker.cli import main
from views import figures


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the warm-up did not get there in time"
        time.sleep(0.05)


def test_the_warm_up_fills_the_cache_and_follows_the_data(monkeypatch, sample_db_url, capsys):
    monkeypatch.setattr(figures, "CHECK_EVERY_SECONDS", 0.1)
    warm = figures.WarmUp(sample_db_url, str(CONFIG))
    try:
        wait_for(lambda: warm.rounds == 1)
        versions = figures.versions_of(sample_db_url, str(CONFIG))
        assert warm.warmed == versions
        as_of = figures._default_as_of(sample_db_url)

        # the pages' call is answered from what the warm-up computed: computing again would fail here
        def refuse(*args, **kwargs):
            raise AssertionError("computed again instead of taken from the cache")

        with monkeypatch.context() as m:
            m.setattr(tracker.scoring.live, "live_ranking", refuse)
            scores, report, model = figures.live(sample_db_url, figures.DEFAULT_MODEL, str(CONFIG), as_of, None,
                                                 versions)
        capsys.readouterr()
        assert main(["--db", sample_db_url, "--config", str(CONFIG), "score", "--as-of", as_of.isoformat(),
                     "--json"]) == 0
        expected = {r["name"]: r["score"] for r in json.loads(capsys.readouterr().out)["results"]}
        assert {r.name: r.score for r in scores.results} == expected

        assert not warm.warm_once()  # nothing changed: nothing computed
        engine = create_engine(sample_db_url)
        with engine.connect() as conn:
            person = conn.execute(text("SELECT id FROM people WHERE NOT is_bot ORDER BY id LIMIT 1")).scalar()
        engine.dispose()
        assert main(["--db", sample_db_url, "--config", str(CONFIG), "people", "bot", str(person), "--yes",
                     "--reason", "测试：预热随数据更新"]) == 0
        wait_for(lambda: warm.rounds == 2)
        assert warm.warmed == figures.versions_of(sample_db_url, str(CONFIG)) != versions
    finally:
        warm.stopped.set()
        warm.thread.join(30)
    assert not warm.thread.is_alive()


def test_the_warm_up_stops_when_its_database_is_gone(monkeypatch, tmp_path, sample_db):
    monkeypatch.setattr(figures, "CHECK_EVERY_SECONDS", 0.05)
    path = tmp_path / "gone.db"
    shutil.copyfile(sample_db, path)
    url = f"sqlite:///{path}"
    warm = figures.WarmUp(url, str(CONFIG))
    try:
        wait_for(lambda: warm.rounds == 1)
        warm.warm_once = lambda: False  # from here on the loop only looks for its database
        dbm.dispose_engine(url)
        path.unlink()
        warm.thread.join(30)
        assert not warm.thread.is_alive()
    finally:
        warm.stopped.set()


def test_no_warm_up_under_apptest_or_when_turned_off(monkeypatch, sample_db_url):
    import threading

    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    def ours() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name in ("mtx-warm-up", "mtx-prepare")}

    from tracker.cli.sample import ensure_demo_accounts

    ensure_demo_accounts(sample_db_url)  # the app re-checks the signed-in user on every run
    before = ours()
    monkeypatch.setenv("MTX_DATABASE_URL", sample_db_url)
    monkeypatch.setenv("MTX_CONFIG", str(CONFIG))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["actor"] = Actor("evaluator", "evaluator")
    at.run()
    assert not at.exception and "总览" in [t.value for t in at.title]
    assert ours() == before  # AppTest's runtime is a mock: no thread of ours started in the test process
    assert figures.start_warm_up(sample_db_url, str(CONFIG)) is None  # plain Python: no Streamlit server
    monkeypatch.setenv("MTX_APP_WARM_UP", "0")
    assert figures.start_warm_up(sample_db_url, str(CONFIG)) is None


@pytest.mark.parametrize("role", ["enterprise"])
def test_the_shared_figures_are_not_for_enterprise_users(role):
    from tracker.access import AccessDenied
    from tracker.metrics import detail
    from tracker.people.queries import may_read
    from tracker.scoring.live import may_see_ranking

    actor = Actor(role, role, 1)
    for check in (may_see_ranking, detail.may_read, may_read):
        with pytest.raises(AccessDenied):
            check(actor)
