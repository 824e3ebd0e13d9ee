"""The evaluator's day in a real browser: the ranking, a community's "why this score" opened from it, and a score
entered in the demo round and saved."""
from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import create_engine, text

from tests.e2e import browser as web
from tracker.cli import main
from tracker.cli.sample import DEMO_ACCOUNTS
from tracker.scoring.loading import load_model

pytestmark = pytest.mark.e2e
PASSWORDS = {username: password for username, _, password in DEMO_ACCOUNTS}
AS_OF = "2026-10-31"
COMMUNITY = "bayu-edu"


def choose(browser, label: str, option: str) -> None:
    """Pick `option` in the st.selectbox labelled `label` (type to filter, Enter to choose)."""
    box = next(b for b in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stSelectbox']")
               if b.text.split("\n")[0].strip() == label)
    field = box.find_element(By.CSS_SELECTOR, "input")
    field.click()
    field.send_keys(option)
    web.run_and_wait(browser, lambda: field.send_keys(Keys.ENTER))


def test_an_evaluator_opens_a_community_from_the_ranking_and_sees_why(browser, app_server, capsys):
    capsys.readouterr()
    assert main(["--db", app_server.db_url, "--config", str(web.CONFIG), "score", "--explain", COMMUNITY,
                 "--as-of", AS_OF, "--json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    web.sign_in(browser, app_server.base, "evaluator", PASSWORDS["evaluator"])
    web.click_menu(browser, "社区排名")
    web.wait_for_text(browser, f"截至 {AS_OF}")
    choose(browser, "查看社区详情", COMMUNITY)
    # the link is drawn by the run the choice caused; wait for it rather than trusting the first finished run
    web.wait_until(browser, lambda b: any("巴渝开源教育" in a.text for a in
                                          b.find_elements(By.CSS_SELECTOR, "[data-testid='stPageLink'] a")),
                   message="no link to 巴渝开源教育's 社区详情")
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stPageLink'] a")
                if "巴渝开源教育" in a.text)
    web.run_and_wait(browser, link.click, until=lambda b: web.current_menu_title(b) == "社区详情"
                     and "定量得分" in web.page_text(b))
    assert f"community={COMMUNITY}" in browser.current_url and f"as_of={AS_OF}" in browser.current_url
    web.wait_for_text(browser, "最值得改进")
    page = web.page_text(browser)
    result = explained["results"][0]
    assert f"{result['score']:g} / 70" in page                     # the quantitative score, as mtx score --explain
    assert "各信号得分" in page and "缺失的信号" in page and "最值得改进" in page
    labels = {s.name: s.label_zh for s in load_model("mantianxing", web.CONFIG / "models").signals}
    missing = [n for n, v in result["signals"].items() if v["value"] is None]
    assert missing                                                # e.g. 依赖者数: no source
    tables = [web.dataframe_rows(browser, i) for i in range(3)]  # per signal, missing, gaps (then a collapsed one)
    gaps = next(t for t in tables if t and any("低于中位数" in k for k in t[0]))
    assert [row["信号"] for row in gaps] == [labels[g["signal"]] for g in explained["gaps"]]
    shown_missing = next(t for t in tables if t and "原因" in t[0] and set(t[0]) <= {"信号", "原因", "代号"})
    assert [row["信号"] for row in shown_missing] == [labels[n] for n in missing]
    web.screenshot(browser, "evaluator-community-why")


def test_an_evaluator_enters_a_score_in_the_round_and_sees_it_saved(browser, app_server):
    engine = create_engine(app_server.db_url)
    with engine.begin() as conn:  # this test may run again on the same server (reruns): start from no scores
        conn.execute(text("DELETE FROM expert_scores WHERE expert = 'evaluator'"))
    web.sign_in(browser, app_server.base, "evaluator", PASSWORDS["evaluator"])
    web.click_menu(browser, "评审轮次")
    web.wait_for_text(browser, "已完成 0/6 个申报的评分")
    panel = next(e for e in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stExpander']")
                 if "（hongtu-board）" in e.find_element(By.CSS_SELECTOR, "summary").text)
    panel.find_element(By.CSS_SELECTOR, "summary").click()
    # a collapsed expander's fields are in the page but hidden: wait until the opened panel shows them
    web.wait_until(browser, lambda b: (lambda found: found and all(x.is_displayed() and x.size["height"] > 0
                                                                   for x in found))(
        panel.find_elements(By.CSS_SELECTOR, "[data-testid='stNumberInput'] input")),
        message="the candidate's score fields did not open")
    boxes = panel.find_elements(By.CSS_SELECTOR, "[data-testid='stNumberInput'] input")
    assert len(boxes) == 4
    ratings = [4.5, 3.0, 4.0, 2.5]
    for box, value in zip(boxes, ratings):
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        web.wait_until(browser, lambda b: box.is_enabled() and box.is_displayed())
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(str(value))
    panel.find_element(By.CSS_SELECTOR, "textarea").send_keys("文档齐全（浏览器测试）")
    button = next(b for b in panel.find_elements(By.CSS_SELECTOR, "[data-testid='stFormSubmitButton'] button")
                  if b.text == "保存评分")
    web.run_and_wait(browser, button.click, until=lambda b: "已保存" in web.page_text(b))
    web.wait_for_text(browser, "已完成 1/6 个申报的评分")
    assert any("已保存 鸿途开发板 BSP（示例） 的 4 项评分" in a for a in web.alerts(browser))
    with engine.connect() as conn:
        saved = conn.execute(text(
            "SELECT s.signal, s.score, s.comment FROM expert_scores s JOIN round_candidates rc ON rc.id = "
            "s.candidate_id JOIN communities c ON c.id = rc.community_id WHERE s.expert = 'evaluator' AND "
            "c.slug = 'hongtu-board' ORDER BY s.signal")).all()
    signals = ["expert_focus_field_demonstration", "expert_governance_licence", "expert_documentation",
               "expert_community_building"]
    assert saved == sorted((s, v, "文档齐全（浏览器测试）") for s, v in zip(signals, ratings))
    web.screenshot(browser, "evaluator-round-score-saved")
