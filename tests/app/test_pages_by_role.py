"""Every page × role of the navigation table (views/pages.py) on the demo database (AppTest): an allowed page renders
with its own title and no exception; a page the role may not see answers 无权访问 at its address, and shows nothing of
the page. The pages' own numbers are asserted in each page's tests (test_ranking, test_rounds_page, …)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tests.app.test_ranking import CONFIG
from views.pages import PAGES

ROLES = ("admin", "evaluator", "enterprise")


def actor_for(url, role):
    from sqlalchemy import create_engine, text

    from tracker.access import Actor

    if role != "enterprise":
        return Actor(role, role)
    with create_engine(url).connect() as conn:
        enterprise = conn.execute(text("SELECT enterprise_id FROM users WHERE username = 'enterprise'")).scalar()
    return Actor("enterprise", "enterprise", enterprise)


@pytest.mark.parametrize("role", ROLES)
def test_each_page_for_each_role(monkeypatch, demo_db_url, role):
    monkeypatch.setenv("MTX_DATABASE_URL", demo_db_url)
    monkeypatch.setenv("MTX_CONFIG", str(CONFIG))
    actor = actor_for(demo_db_url, role)
    for page in PAGES:
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state["actor"] = actor
        at.run()
        target = page.file if role in page.roles else "views/refused.py"
        at.switch_page(target).run()
        assert not at.exception, (page.title, role, at.exception)
        if role in page.roles:
            assert at.title[0].value == page.title, (page.title, role)
        else:
            assert at.title[0].value == "无权访问" and "不能查看此页面" in at.error[0].value
            assert not at.dataframe and not at.get("arrow_vega_lite_chart"), (page.title, role)
