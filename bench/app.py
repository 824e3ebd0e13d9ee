"""Benchmark: the app in a real browser, from a click on a menu page to that page fully drawn, per role and scale.

    python -m bench.app                    # scales 1 and 10 on SQLite
    python -m bench.app --scales 1,10,100  # the issue's figures (building scale 100 takes many minutes)
    python -m bench.app --runs 5 --json    # more clicks per page; the raw numbers instead of the table
    python -m bench.app --keep-samples DIR # build each scale's sample once into DIR, copy it on later runs

For each scale the sample is built in a child process (`bench.sample.build_in_child`), the demo accounts are added
(`tracker.cli.sample.ensure_demo_accounts`) and the app is served by `streamlit run app.py` on a free port
(`tests.e2e.browser.AppServer`, the harness of the browser tests). One headless Chromium then signs in as each demo
account and clicks through that role's menu (`views.pages.allowed`, so new pages are measured without a change here)
`--runs` times, always moving to another page. A click's time ends when the run it caused has finished, the page is
current in the menu with its heading drawn, no spinner shows and every table and chart has been drawn.

"first s" is the first click on the page for that role (caches cold for that role), "median s" the median of all
clicks; the row "(sign-in)" is the press of 登录 until the role's first page is drawn (that page's cold render); the goal (≤ 2 s at scale 10, ≤ 3 s at scale 100; none at scale 1) is judged on the median and, separately,
on the first click. The floor, measured in the same run: a full load of the sign-in page (a new session, browser cache
warm; the median of `--runs` loads). The machine's load average is printed, since wall times on a shared machine
depend on it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

GOALS = {10: 2.0, 100: 3.0}  # seconds per click, at most, by scale


def sample_copy(scale: int, folder: Path, keep: Path | None) -> tuple[str, int]:
    """A fresh sample database at ``folder`` (built in a child process); with ``keep``, built once into that folder
    and copied from there on later runs (scale 100 takes minutes to build)."""
    import shutil

    from bench.sample import build_in_child

    url = f"sqlite:///{folder / 'bench.db'}"
    if keep is None:
        return url, build_in_child(url, scale)
    keep.mkdir(parents=True, exist_ok=True)
    kept = keep / f"sample-{scale}.db"
    count = keep / f"sample-{scale}.commits"
    if not (kept.exists() and count.exists()):
        partial = keep / f"sample-{scale}.building.db"
        partial.unlink(missing_ok=True)
        commits = build_in_child(f"sqlite:///{partial}", scale)
        import sqlite3

        with sqlite3.connect(partial) as conn:  # everything in the main file, so a copy of it is the whole database
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        partial.rename(kept)
        count.write_text(str(commits))
    shutil.copyfile(kept, folder / "bench.db")
    from tracker import db as dbm

    dbm.upgrade(url)  # a sample kept from an earlier schema gets this checkout's migrations
    dbm.dispose_engine(url)
    return url, int(count.read_text())


def measure_scale(scale: int, runs: int, folder: Path, keep: Path | None = None) -> dict:
    from tests.e2e import browser as web
    from tracker import db as dbm
    from tracker.cli.sample import DEMO_ACCOUNTS, ensure_demo_accounts
    from views.pages import allowed

    print(f"building scale {scale} ...", file=sys.stderr, flush=True)
    url, commits = sample_copy(scale, folder, keep)
    ensure_demo_accounts(url)
    dbm.dispose_engine(url)
    server = web.AppServer(url, folder / "streamlit.log")
    driver = web.new_driver(str(folder / "chromium-profile"))
    login_form = "[data-testid='stTextInput'] input"
    try:
        web.load(driver, server.base, until=lambda b: b.find_elements("css selector", login_form))  # warm-up
        floor = [web.load(driver, server.base, until=lambda b: b.find_elements("css selector", login_form))
                 for _ in range(runs)]
        pages = []
        for username, role, password in DEMO_ACCOUNTS:
            print(f"  {role} ...", file=sys.stderr, flush=True)
            web.forget_session(driver)
            web.load(driver, server.base, until=lambda b: b.find_elements("css selector", login_form))
            started = time.perf_counter()
            error = web.submit_sign_in(driver, username, password)
            if error:
                raise SystemExit(f"bench.app: {username} could not sign in: {error}")
            web.wait_until(driver, web.drawn)
            signed_in = time.perf_counter() - started
            menu = allowed(role)
            times: dict[str, list[float]] = {p.title: [] for p in menu}
            for _ in range(runs):
                for page in menu[1:] + menu[:1]:  # the first page is open after signing in: start with the next
                    times[page.title].append(web.click_menu(driver, page.title, until=web.drawn))
                    if web.exceptions(driver):
                        raise SystemExit(f"bench.app: {page.title} ({role}) raised: {web.exceptions(driver)[0]}")
            pages.append({"role": role, "page": "(sign-in)", "title": f"登录 → {menu[0].title}", "first": signed_in,
                          "median": signed_in, "clicks": [signed_in]})
            pages += [{"role": role, "page": p.url_path, "title": p.title, "first": times[p.title][0],
                       "median": statistics.median(times[p.title]), "clicks": times[p.title]} for p in menu]
    finally:
        driver.quit()
        server.stop()
    return {"scale": scale, "commits": commits, "floor": {"what": "sign-in page, full load",
                                                          "median": statistics.median(floor), "loads": floor},
            "pages": pages}


def verdict(seconds: float, scale: int) -> str:
    goal = GOALS.get(scale)
    if goal is None:
        return "—"
    return "met" if seconds <= goal else "NOT met"


HEADER = (f"{'scale':>5} {'commits':>9} {'role':<10} {'page':<12} {'first s':>8} {'median s':>8} {'goal':>7}  "
          f"{'met (median)':<12} {'met (first)':<11}  title")


def table_rows(result: dict) -> list[str]:
    scale = result["scale"]
    goal = f"≤ {GOALS[scale]:g} s" if scale in GOALS else "—"
    floor = result["floor"]
    lines = [f"{scale:>5} {result['commits']:>9,} {'(floor)':<10} {'(login)':<12} {floor['loads'][0]:>8.2f} "
             f"{floor['median']:>8.2f} {'':>7}  {'':<12} {'':<11}  {floor['what']}"]
    for p in result["pages"]:
        lines.append(f"{scale:>5} {result['commits']:>9,} {p['role']:<10} {p['page']:<12} {p['first']:>8.2f} "
                     f"{p['median']:>8.2f} {goal:>7}  {verdict(p['median'], scale):<12} {verdict(p['first'], scale):<11}"
                     f"  {p['title']}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.app", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10", help="comma-separated sample scales (default 1,10)")
    parser.add_argument("--runs", type=int, default=3, help="clicks per page and role (default 3)")
    parser.add_argument("--keep-samples", type=Path, metavar="DIR",
                        help="build each scale's sample once into DIR and copy it for later runs")
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON instead of the table")
    args = parser.parse_args(argv)
    from tests.e2e.browser import missing_browser

    reason = missing_browser()
    if reason:
        print(f"bench.app skipped: {reason}")
        return
    load = os.getloadavg()
    if not args.json:
        print(f"App pages in headless Chromium: {args.runs} clicks per page and role; load average {load[0]:.2f} "
              f"{load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs\n{HEADER}", flush=True)
    results = []
    for scale in [int(s) for s in args.scales.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(measure_scale(scale, args.runs, Path(tmp), args.keep_samples))
        if not args.json:
            print("\n".join(table_rows(results[-1])), flush=True)
    if args.json:
        print(json.dumps({"load_average": load, "cpus": os.cpu_count(), "runs": args.runs, "goals": GOALS,
                          "results": results}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
