"""The app in a real browser: a Streamlit server in its own process group, headless Chromium through Selenium, and the
moves a user makes (sign in, pick a page from the menu, type an address, read a table). Plain functions, no pytest, so
tests/e2e and bench/app.py share them.

Waiting: a Streamlit page is "done" when the script run that the last action caused has finished. A plain "not
running" check cannot tell that run from the previous one (a fast run, or one drawing the same error again, leaves the
page as it was, and the frontend may never show the running state at all), so the driver counts the runs the server
reports finished (COUNT_RUNS, in every page it loads) and every action that causes a run goes through `run_and_wait`.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import httpx

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
CONFIG = ROOT / "config"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000")
TIMEOUT = 60.0  # seconds any one wait may take: a page run on a busy two-core machine, never a normal one

APP_READY = "[data-testid='stApp'][data-test-connection-state='CONNECTED'][data-test-script-state='notRunning']"
NAV_LINK = "[data-testid='stSidebarNavLink']"
# Installed before any page script (Chrome DevTools' Page.addScriptToEvaluateOnNewDocument): counts the script runs
# the server reports finished. Each ForwardMsg is one binary websocket frame; its top-level field 6 (varint) is
# `script_finished`, and value 2 (FINISHED_EARLY_FOR_RERUN) is a run cut short by st.rerun, not counted. The count moves
# in a timer after the frame, so after Streamlit's own handling of it.
COUNT_RUNS = """
(() => {
  if (window.__mtxRuns !== undefined) return;
  window.__mtxRuns = 0;
  const finished = bytes => {
    let i = 0;
    const varint = () => { let v = 0, m = 1, b; do { b = bytes[i++]; v += (b & 127) * m; m *= 128; } while (b & 128); return v; };
    while (i < bytes.length) {
      const key = varint(), field = Math.floor(key / 8), wire = key % 8;
      if (wire === 0) { const v = varint(); if (field === 6) return v !== 2; }
      else if (wire === 2) { const length = varint(); i += length; }  // not i += varint(): i is read first
      else if (wire === 1) { i += 8; } else if (wire === 5) { i += 4; } else return false;
    }
    return false;
  };
  const Native = window.WebSocket;
  const Counting = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener('message', event => {
      if (event.data instanceof ArrayBuffer && finished(new Uint8Array(event.data))) setTimeout(() => window.__mtxRuns++, 0);
    });
    return socket;
  };
  Counting.prototype = Native.prototype;
  Object.assign(Counting, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Counting;
})();
"""
RUN_STATE = "return [window.__mtxRuns, !!document.querySelector(arguments[0])];"
DRAWN = """
// what the user can see: a grid or chart inside a collapsed expander, or below the window, is not drawn until seen
const seen = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.top < window.innerHeight && r.bottom > 0; };
const frames = Array.from(document.querySelectorAll("[data-testid='stDataFrame']")).filter(seen);
const charts = Array.from(document.querySelectorAll("[data-testid='stVegaLiteChart']")).filter(seen);
return !document.querySelector("[data-testid='stSpinner']") && frames.every(f => f.querySelector('table')) && charts.every(c => c.querySelector('svg, canvas'));
"""
TABLE_ROWS = """
const table = arguments[0].querySelector('table');
if (!table) return null;
const cells = row => Array.from(row.querySelectorAll('th, td'), c => c.textContent);
const [head, ...body] = Array.from(table.querySelectorAll('tr'));
return head ? [cells(head), body.map(cells)] : null;
"""


def missing_browser() -> str | None:
    """Why no browser test can run here, or None when Chromium and its driver are installed."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        return (f"{' and '.join(missing)} missing: install Debian's chromium and chromium-driver "
                "(scripts/ensure-chromium.sh does, as root)")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`streamlit run app.py` on a free local port against one database, in its own process group (stopped whole)."""

    def __init__(self, db_url: str, log_path: Path, config: Path = CONFIG) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ, MTX_DATABASE_URL=db_url, MTX_CONFIG=str(config))
        argv = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
                "--server.port", str(self.port), "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self._log = open(log_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                answer = httpx.get(f"{self.base}/_stcore/health", timeout=2)
                if answer.status_code == 200 and answer.text == "ok":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the app did not answer /_stcore/health within {timeout:g} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def new_driver(user_data_dir: str | None = None):
    """Headless Chromium (the Debian package) through its own chromedriver; never Selenium Manager's downloads."""
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir or tempfile.mkdtemp(prefix='mtx-chromium-')}")
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(TIMEOUT)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COUNT_RUNS})
    return driver


def forget_session(browser) -> None:
    """A fresh start for the next test: no cookies, nothing loaded (the app's session lives in its websocket, so the
    next page load starts a new one; `_streamlit_xsrf` is the only cookie it sets)."""
    browser.delete_all_cookies()
    browser.get("about:blank")


def wait_until(browser, condition: Callable, timeout: float = TIMEOUT, message: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.05).until(condition, message)


def app_ready(browser) -> bool:
    from selenium.webdriver.common.by import By

    return bool(browser.find_elements(By.CSS_SELECTOR, APP_READY))


def runs_finished(browser) -> int:
    """How many script runs the server has reported finished to this page (see COUNT_RUNS)."""
    runs = browser.execute_script(RUN_STATE, APP_READY)[0]
    assert runs is not None, "no run counter in the page: make the driver with new_driver()"
    return runs


def drawn(browser) -> bool:
    """No spinner, every st.dataframe's grid and every chart in the window drawn: what the user sees is complete."""
    return browser.execute_script(DRAWN)


def run_and_wait(browser, action: Callable[[], object], until: Callable | None = None,
                 timeout: float = TIMEOUT) -> float:
    """Do `action` (a click, a history change), then wait for the script run it caused to finish and for `until`
    (given the browser) to hold; returns the seconds from the action to then."""
    before = runs_finished(browser)
    started = time.perf_counter()
    action()

    def finished(b) -> bool:
        runs, ready = b.execute_script(RUN_STATE, APP_READY)
        return runs > before and ready and (until is None or until(b))

    wait_until(browser, finished, timeout, "the page did not finish its run")
    return time.perf_counter() - started


def load(browser, base: str, path: str = "/", until: Callable | None = None) -> float:
    """A full page load of `path` (a new app session: nothing signed in); waits for its first run to finish."""
    from selenium.webdriver.common.by import By

    started = time.perf_counter()
    browser.get(base.rstrip("/") + path)
    wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-testid='stAppViewContainer']")
               and runs_finished(b) >= 1 and app_ready(b) and b.find_elements(By.CSS_SELECTOR, "h1")
               and (until is None or until(b)), message=f"{path} did not load")
    return time.perf_counter() - started


def headings(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return [h.text.strip() for h in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stMain'] h1")]


def alerts(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return [a.text.strip() for a in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stAlert']")]


def exceptions(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text.strip() for e in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stException']")]


def page_text(browser) -> str:
    return browser.execute_script("return document.body.innerText")


def wait_for_text(browser, text: str, timeout: float = TIMEOUT) -> None:
    wait_until(browser, lambda b: text in page_text(b), timeout, f"{text!r} did not appear")


def menu_titles(browser) -> list[str]:
    """The sidebar menu's page titles, in order (icons left out)."""
    from selenium.webdriver.common.by import By

    return [link.find_element(By.CSS_SELECTOR, "[data-testid='stMarkdownContainer']").text.strip()
            for link in browser.find_elements(By.CSS_SELECTOR, NAV_LINK)]


def current_menu_title(browser) -> str | None:
    from selenium.webdriver.common.by import By

    for link in browser.find_elements(By.CSS_SELECTOR, f"{NAV_LINK}[aria-current='page']"):
        return link.find_element(By.CSS_SELECTOR, "[data-testid='stMarkdownContainer']").text.strip()
    return None


def _set_text(element, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.BACKSPACE)
    element.send_keys(text)


def submit_sign_in(browser, username: str, password: str) -> str | None:
    """On the open sign-in page: type both fields and press 登录; None when the menu appeared (signed in), else the
    error the page showed."""
    from selenium.webdriver.common.by import By

    user_box, password_box = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stTextInput'] input")[:2]
    _set_text(user_box, username)
    _set_text(password_box, password)
    button = browser.find_element(By.CSS_SELECTOR, "[data-testid='stFormSubmitButton'] button")
    run_and_wait(browser, button.click, until=lambda b: b.find_elements(By.CSS_SELECTOR, NAV_LINK) or alerts(b))
    if browser.find_elements(By.CSS_SELECTOR, NAV_LINK):
        return None
    return alerts(browser)[0]


def sign_in(browser, base: str, username: str, password: str) -> None:
    """Open the app afresh and sign in; fails unless the menu appears."""
    load(browser, base, until=lambda b: b.find_elements("css selector", "[data-testid='stTextInput'] input"))
    error = submit_sign_in(browser, username, password)
    assert error is None, f"{username} could not sign in: {error}"


def click_menu(browser, title: str, until: Callable | None = None) -> float:
    """Pick `title` in the sidebar menu; waits until that page's run has finished with it current, an h1 drawn (or
    an exception shown) and `until` true. Returns the seconds from the click to then."""
    from selenium.webdriver.common.by import By

    links = [link for link in browser.find_elements(By.CSS_SELECTOR, NAV_LINK)
             if link.find_element(By.CSS_SELECTOR, "[data-testid='stMarkdownContainer']").text.strip() == title]
    assert links, f"no menu entry {title!r} in {menu_titles(browser)}"
    return run_and_wait(browser, links[0].click,
                        until=lambda b: current_menu_title(b) == title and (headings(b) or exceptions(b))
                        and (until is None or until(b)))


def open_page(browser, base: str, url_path: str) -> float:
    """Type the page's address within the signed-in session, as a bookmark or link inside the app would.

    A full load (`browser.get`) starts a new Streamlit session, which is signed out (the sign-in lives in that
    session's st.session_state), so it cannot show what a signed-in user gets at an address. Instead the address bar
    is changed with `history.pushState` and the app told with a `popstate` event, which Streamlit's frontend answers by
    running the page registered at that path in the same session — what back/forward and in-app links do.
    """
    path = "/" + url_path.strip("/")
    script = ("window.history.pushState({}, '', arguments[0]);"
              "window.dispatchEvent(new PopStateEvent('popstate', {state: {}}));")
    return run_and_wait(browser, lambda: browser.execute_script(script, path),
                        until=lambda b: b.execute_script("return location.pathname") == path
                        and (headings(b) or exceptions(b)))


def dataframe_rows(browser, index: int = 0) -> list[dict[str, str]]:
    """The rows of the `index`-th st.dataframe on the page as {column: text}, read from the grid's accessible table
    (the grid itself is a canvas), scrolled into view (a grid draws only when seen); waits for that table to be drawn. Only the rows the grid has rendered are there."""
    from selenium.webdriver.common.by import By

    def table(b):
        frames = b.find_elements(By.CSS_SELECTOR, "[data-testid='stDataFrame']")
        if len(frames) <= index:
            return None
        b.execute_script("arguments[0].scrollIntoView({block: 'center'})", frames[index])  # grids draw when seen
        return b.execute_script(TABLE_ROWS, frames[index])

    head, body = wait_until(browser, table, message=f"dataframe {index} has no table")
    return [dict(zip(head, row)) for row in body]


def screenshot(browser, name: str) -> Path:
    """Save what the window shows as artifacts/e2e/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    browser.save_screenshot(str(path))
    return path
