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


# --- tables read whole, buttons, choosers, dialogs, metrics, downloads and uploads ----------------------------------

GRID_CELLS = """
// what one grid's accessible table holds now: its size, and the header and body cells it has rendered, each with its
// position (a grid renders only the rows and columns in its window)
const table = arguments[0].querySelector('table');
if (!table) return null;
const at = (cell, name) => Number(cell.getAttribute(name));
const head = Array.from(table.querySelectorAll('thead th'), c => [at(c, 'aria-colindex'), c.textContent]);
const body = Array.from(table.querySelectorAll('tbody tr')).flatMap(r => Array.from(r.querySelectorAll('td'),
  c => [at(r, 'aria-rowindex'), at(c, 'aria-colindex'), c.textContent]));
return [at(table, 'aria-colcount'), at(table, 'aria-rowcount') - 1, head, body];
"""
GRID_SCROLL = """
// scroll a grid's own scroller to (left, top) and answer once two frames are drawn: where it is, how far it goes, the
// size of its window and where it was
const [frame, left, top, done] = arguments;
const scroller = frame.querySelector('.dvn-scroller');
if (!scroller) { done([0, 0, 0, 0, 1, 1, 0, 0]); return; }
const [wasLeft, wasTop] = [scroller.scrollLeft, scroller.scrollTop];
scroller.scrollLeft = left;
scroller.scrollTop = top;
requestAnimationFrame(() => requestAnimationFrame(() => done([scroller.scrollLeft, scroller.scrollTop,
  scroller.scrollWidth - scroller.clientWidth, scroller.scrollHeight - scroller.clientHeight,
  scroller.clientWidth, scroller.clientHeight, wasLeft, wasTop])));
"""


def _visible_frame(browser, column: str):
    """The st.dataframe on screen (not in a hidden tab) whose header has `column`, scrolled into view; or None."""
    from selenium.webdriver.common.by import By

    for frame in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stDataFrame']"):
        if not frame.is_displayed():
            continue
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)
        grid = browser.execute_script(GRID_CELLS, frame)
        if grid and column in [name for _, name in grid[2]]:
            return frame
    return None


def _window(grid) -> tuple:
    """Which header columns and body rows a grid's accessible table holds (what its window shows)."""
    return tuple(c for c, _ in grid[2]), tuple(sorted({r for r, _, _ in grid[3]}))


def _scroll_grid(browser, frame, left: int, top: int) -> list:
    """Move the grid's window to (left, top); when it moved, wait until the accessible table shows the new window (it
    follows the canvas a little later, debounced: about 0.1 s here)."""
    from selenium.common.exceptions import TimeoutException

    before = browser.execute_script(GRID_CELLS, frame)
    where = browser.execute_async_script(GRID_SCROLL, frame, left, top)
    if before is not None and tuple(where[:2]) != tuple(where[6:8]):
        try:
            wait_until(browser, lambda b: (now := b.execute_script(GRID_CELLS, frame)) is not None
                       and _window(now) != _window(before), 2, "")
        except TimeoutException:
            pass  # a window that shows the same cells (a column wider than the window): nothing new to read
    return where


def _whole_grid(browser, frame) -> list[dict[str, str]] | None:
    """Every cell of one grid, its window moved over the whole grid; None while some cell is not drawn yet."""
    headers: dict[int, str] = {}
    cells: dict[int, dict[int, str]] = {}
    columns = rows = 0
    left = 0
    for _ in range(100):  # windows across: far more than any page's grid
        top = 0
        for _ in range(100):  # windows down
            x, y, max_x, max_y, width, height, _, _ = _scroll_grid(browser, frame, left, top)
            grid = browser.execute_script(GRID_CELLS, frame)
            if grid is None:
                return None
            columns, rows, head, body = grid
            headers.update(head)
            for r, c, value in body:
                cells.setdefault(r, {})[c] = value
            if y >= max_y:
                break
            top = y + max(1, int(height * 0.75))
        if x >= max_x:
            break
        left = x + max(1, int(width * 0.75))
    _scroll_grid(browser, frame, 0, 0)
    if len(headers) < columns or len(cells) < rows or any(len(row) < columns for row in cells.values()):
        return None
    return [{headers[c]: row[c] for c in sorted(row)} for _, row in sorted(cells.items())]


def table_rows(browser, column: str, until: Callable[[list[dict[str, str]]], bool] | None = None,
               timeout: float = TIMEOUT) -> list[dict[str, str]]:
    """Every row and column of the st.dataframe on screen whose header has `column`, as {column: text}: read from the
    grid's accessible table (the grid is a canvas), the grid's own scroller moved over it so that rows and columns out
    of its window are drawn too.

    A finished run does not mean the grid shows its data yet (the frontend decodes and draws after the run's last
    message), and a grid that was there before may still show the previous rows: pass `until` (given the rows) for the
    table the action should have produced; this waits for it and fails with the rows last seen."""
    from selenium.common.exceptions import StaleElementReferenceException

    seen: list[list[dict[str, str]]] = [[]]

    def read(b):
        try:
            frame = _visible_frame(b, column)
            found = None if frame is None else _whole_grid(b, frame)
        except StaleElementReferenceException:  # the grid was drawn anew while being read: read it again
            return None
        if found is None:
            return None
        seen[0] = found
        return found if until is None or until(found) else None

    try:
        return wait_until(browser, read, timeout, f"no table with column {column!r} as expected")
    except Exception as exc:
        raise AssertionError(f"the table with column {column!r} did not become as expected; last seen: {seen[0]}") \
            from exc


def button(browser, label: str, within: str = "[data-testid='stMain']"):
    """The button labelled `label` inside `within` (a CSS selector), waiting for it to be there."""
    from selenium.webdriver.common.by import By

    def find(b):
        return next((x for x in b.find_elements(By.CSS_SELECTOR, f"{within} button") if x.text.strip() == label), None)

    return wait_until(browser, find, message=f"no button {label!r} in {within}")


def press(browser, label: str, within: str = "[data-testid='stMain']", until: Callable | None = None) -> float:
    """Click the button labelled `label` and wait for the run it causes (and for `until`)."""
    return run_and_wait(browser, button(browser, label, within).click, until=until)


def _selectbox(browser, label: str):
    """The st.selectbox on screen labelled `label`, waiting for it."""
    from selenium.webdriver.common.by import By

    return wait_until(browser, lambda b: next((x for x in b.find_elements(By.CSS_SELECTOR, "[data-testid='stSelectbox']")
                                               if x.is_displayed() and x.text.split("\n")[0].strip() == label), None),
                      message=f"no selectbox {label!r}")


def choose(browser, label: str, option: str) -> None:
    """Pick `option` in the st.selectbox labelled `label`: typed into its search box, Enter to choose, as a user
    filters a long list; waits for the run the choice causes (inside st.form a choice causes none: choose_in_form)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = _selectbox(browser, label)
    field = box.find_element(By.CSS_SELECTOR, "input")
    field.click()
    field.send_keys(option)
    run_and_wait(browser, lambda: field.send_keys(Keys.ENTER))


def choose_in_form(browser, label: str, option: str) -> None:
    """`choose` for a selectbox inside st.form: the choice is kept by the frontend and sent with the form (no run);
    waits until the box shows the option."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = _selectbox(browser, label)
    field = box.find_element(By.CSS_SELECTOR, "input")
    field.click()
    field.send_keys(option)
    wait_until(browser, lambda b: any(o.text.strip() == option
                                      for o in b.find_elements(By.CSS_SELECTOR, "[role='option']")),
               message=f"{option!r} is not offered in {label!r}")
    field.send_keys(Keys.ENTER)

    def chosen(b) -> bool:  # the list closed, the box showing the option (as text, or as its search box's value)
        return not b.find_elements(By.CSS_SELECTOR, "[role='option']") and (
            option in box.text.split("\n")[1:] or field.get_attribute("value") == option)

    wait_until(browser, chosen, message=f"{label!r} does not show {option!r}")


def type_into(browser, label: str, text: str, enter: bool = False) -> None:
    """Type `text` into the text input labelled `label` (replacing what it holds); with `enter`, press Enter and wait
    for the run that causes."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = wait_until(browser, lambda b: next((x for x in b.find_elements(By.CSS_SELECTOR,
                                                                           f"input[aria-label='{label}']")
                                                if x.is_displayed()), None), message=f"no text input {label!r}")
    _set_text(field, text)
    if enter:
        run_and_wait(browser, lambda: field.send_keys(Keys.ENTER))


DIALOG = "[role='dialog']"


def open_dialog(browser, label: str) -> str:
    """Press the page's button `label` that asks 请确认; waits for the dialog and returns its question."""
    from selenium.webdriver.common.by import By

    press(browser, label, until=lambda b: b.find_elements(By.CSS_SELECTOR, f"{DIALOG} button"))
    return browser.find_element(By.CSS_SELECTOR, DIALOG).text


def answer_dialog(browser, outcome: Callable[[list[str]], bool], label: str = "确认") -> list[str]:
    """Press `label` in the open 请确认 dialog; waits for the rerun after it and for `outcome` (given the page's alerts)
    to hold; returns the alerts."""
    press(browser, label, within=DIALOG, until=lambda b: not b.find_elements("css selector", DIALOG)
          and outcome(alerts(b)))
    return alerts(browser)


def metrics(browser) -> dict[str, str]:
    """The st.metric tiles on screen: {label: value}."""
    from selenium.webdriver.common.by import By

    return {m.find_element(By.CSS_SELECTOR, "[data-testid='stMetricLabel']").text.strip():
            m.find_element(By.CSS_SELECTOR, "[data-testid='stMetricValue']").text.strip()
            for m in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stMetric']") if m.is_displayed()}


def allow_downloads(browser, folder: Path) -> Path:
    """Save this driver's downloads into `folder`, without asking (Chrome DevTools' Page.setDownloadBehavior)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    return folder


def download(browser, label: str, folder: Path, timeout: float = TIMEOUT) -> Path:
    """Click the st.download_button labelled `label` (its file may be built only then, on the server: a deferred
    download) and wait for the new file in `folder` (set with allow_downloads) to be complete; returns its path."""
    from selenium.webdriver.common.by import By

    folder = Path(folder)
    before = set(folder.iterdir())
    buttons = [b for b in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stDownloadButton'] button")
               if b.text.strip() == label]
    assert buttons, f"no download button {label!r}"
    buttons[0].click()

    def complete(_):
        new = [p for p in set(folder.iterdir()) - before]
        if not new or any(p.suffix == ".crdownload" or p.name.startswith(".") for p in new):
            return None  # Chrome writes NAME.crdownload, then renames it when the file is whole
        return new[0] if len(new) == 1 and new[0].stat().st_size > 0 else None

    return wait_until(browser, complete, timeout, f"{label!r} downloaded nothing into {folder}")


def upload(browser, path: Path, until: Callable | None = None, timeout: float = TIMEOUT) -> float:
    """Choose `path` in the page's st.file_uploader (its file input, as the file dialog would) and wait for the run
    the upload causes and for `until`."""
    from selenium.webdriver.common.by import By

    field = browser.find_element(By.CSS_SELECTOR, "[data-testid='stFileUploader'] input[type='file']")
    return run_and_wait(browser, lambda: field.send_keys(str(Path(path).resolve())), until=until, timeout=timeout)
