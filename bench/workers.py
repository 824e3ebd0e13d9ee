"""Worker benchmark: ``python -m bench.workers --workers 1,2,4,8`` (``--help`` for the knobs). Two parts:

1. Throughput (needs PostgreSQL: ``MTX_BENCH_DATABASE_URL`` or ``MTX_TEST_DATABASE_URL``, a server URL whose role may
   create databases). For each worker count N: a fresh database (`mtx init`), ``--per-worker`` x N small GitHub
   repositories in the emulator with ``--latency`` added to every answer (high enough that the wait for the network,
   not the CPU of this 2-core machine, bounds a worker), `mtx collect --enqueue`, then N `mtx worker --once`
   N `mtx worker` processes are started and, once all N are registered, `mtx collect --enqueue` queues the
   repositories (the workers pick them up at once: LISTEN/NOTIFY). Repositories per minute over the collection span
   (first repository started to last finished, from ``collection_results``), efficiency = throughput(N) /
   (N x throughput(1)), and CPU over the measured wall time: the workers' CPU seconds (/proc) plus this process's
   (the emulator), per wall second. PostgreSQL's own CPU is not counted (another process tree).
2. Simulation of a nightly re-collection (``--simulate``, 5,000 repositories by default; no database): the
   repositories spread over GitHub, Gitee, GitCode and GitLab as bench.collect does, collected once to get
   bookmarks, then ``--changed`` of them get a new commit and the whole set is collected again from the bookmarks.
   Per platform: requests, 304s and quota-charged requests (the emulator's count) per unchanged and per changed
   repository; then docs/scale.md's arithmetic for ``--target`` (50,000) repositories in an ``--hours`` window.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from bench.collect import PREFIX, SHARE, TOKEN, _platform_for, _table, collect_repository, platform_of
from tests.emulator import World, generate_repo, running_emulator
from tests.emulator.model import GitCommit, Person, fake_sha

MTX = str(Path(sys.executable).parent / "mtx")
TOKEN_VAR = "MTX_BENCH_WORKER_TOKEN"
# what each platform allows per token (docs/scale.md says where each figure comes from)
QUOTA_PER_HOUR = {"github": 5000, "gitee": 5000, "gitcode": 5000, "gitlab": 2000 * 60}


# -- 1. throughput ----------------------------------------------------------------------------------------------------
def _admin_url() -> str | None:
    return (os.environ.get("MTX_BENCH_DATABASE_URL") or os.environ.get("MTX_TEST_DATABASE_URL") or "").strip() or None


def _database(admin: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tracker import db as dbm

    engine = create_engine(dbm.normalise_url(admin), isolation_level="AUTOCOMMIT")
    name = f"mtx_bench_{uuid.uuid4().hex[:8]}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(dbm.normalise_url(admin)).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        dbm.dispose_engine(url)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
    return url, drop


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTX_")}
    env[TOKEN_VAR] = TOKEN.format("github")
    return env


def _mtx(url: str, config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([MTX, "--db", url, "--config", str(config), "--as", "bench", *args], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def throughput(workers: int, per_worker: int, concurrency: int, latency: float, admin: str) -> dict:
    from sqlalchemy import text

    from tracker import db as dbm
    from tracker.cli import main as mtx_main

    world = World()
    paths = [f"bench-w/repo{i:04d}" for i in range(workers * per_worker)]
    for index, path in enumerate(paths):
        generate_repo(world, path, commits=8, seed=index, issues=1, pulls=1, releases=1)
    url, drop = _database(admin)
    try:
        with open(os.devnull, "w") as quiet:
            stdout, sys.stdout = sys.stdout, quiet
            try:
                assert mtx_main(["--db", url, "init"]) == 0
            finally:
                sys.stdout = stdout
        with running_emulator(world) as emu, tempfile.TemporaryDirectory() as tmp:
            emu.add_token(TOKEN.format("github"), limit=10**9)
            config = Path(tmp)
            (config / "communities.yaml").write_text(yaml.safe_dump({
                "platforms": {"github": {"api_url": emu.url, "token_env": [TOKEN_VAR]}},
                "communities": [{"slug": "bench", "name": "基准", "focus": "automotive",
                                 "repositories": [{"platform": "github", "path": p} for p in paths]}]},
                allow_unicode=True), encoding="utf-8")
            emu.latency = latency
            procs = [_mtx(url, config, "worker", "--concurrency", str(concurrency)) for _ in range(workers)]
            try:
                _wait(lambda: _count(url, "SELECT COUNT(*) FROM procrastinate_workers") >= workers, 120,
                      f"{workers} workers to start")
                cpu_before = sum(_cpu_seconds(p.pid) for p in procs)
                cpu_self = time.process_time()
                started = time.perf_counter()
                enqueue = _mtx(url, config, "collect", "--enqueue")
                assert enqueue.wait() == 0, enqueue.stderr.read()
                _wait(lambda: _count(url, "SELECT COUNT(*) FROM collection_results") >= len(paths), 3600,
                      "every repository")
                wall = time.perf_counter() - started
                cpu_workers = sum(_cpu_seconds(p.pid) for p in procs) - cpu_before
                cpu_self = time.process_time() - cpu_self
            finally:
                for proc in procs:
                    proc.terminate()
                errors = [proc.communicate(timeout=120)[1] for proc in procs]
            assert all(proc.returncode == 0 for proc in procs), [e[-800:] for e in errors]
            requests = sum(1 for r in emu.log if r.path != "/rate_limit")
        with dbm.get_engine(url).connect() as conn:
            first, last, done = conn.execute(text(
                "SELECT MIN(started_at), MAX(finished_at), COUNT(*) FROM collection_results WHERE status = 'ok'")).one()
        span = (last - first).total_seconds()
        return {"workers": workers, "repos": len(paths), "done": done, "span": span, "wall": wall,
                "per_minute": done / span * 60, "requests": requests, "cpu_workers": cpu_workers,
                "cpu_emulator": cpu_self, "cores": (cpu_workers + cpu_self) / wall}
    finally:
        drop()


def _count(url: str, sql: str) -> int:
    from sqlalchemy import text

    from tracker import db as dbm

    with dbm.get_engine(url).connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.2)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- 2. simulation -----------------------------------------------------------------------------------------------------
def simulation_world(total: int, seed: int = 7) -> tuple[World, dict[str, list[str]]]:
    """Small repositories (a few commits, issues and pulls), spread over the platforms like bench.collect."""
    rng = random.Random(seed)
    world = World()
    paths: dict[str, list[str]] = {p: [] for p in SHARE}
    for index in range(total):
        platform = _platform_for(index, total)
        path = f"sim-{platform}/repo{index:05d}"
        generate_repo(world, path, commits=rng.randint(1, 12), seed=index, issues=rng.randint(0, 3),
                      pulls=rng.randint(0, 2), releases=rng.randint(0, 1), people=2, only_on=(platform,))
        paths[platform].append(path)
    return world, paths


def change(world: World, path: str, when: dt.datetime) -> None:
    """One new commit on the default branch (what most changed repositories see in a day)."""
    repo = world.repo_by_name(path)
    author = repo.commits[0].author if repo.commits else Person("Someone", "someone@example.org")
    sha = fake_sha(path, "nightly", when.isoformat())
    repo.commits.insert(0, GitCommit(sha=sha, message="A change of today", author=author, authored_at=when,
                                     committer=author, committed_at=when,
                                     parents=(repo.commits[0].sha,) if repo.commits else ()))
    repo.pushed_at = repo.updated_at = when


def simulate(total: int, changed_share: float, threads: int) -> dict[str, dict]:
    from collector import open_platform

    world, paths = simulation_world(total)
    rng = random.Random(1)
    with running_emulator(world) as emu:
        for name in PREFIX:
            emu.add_token(TOKEN.format(name), limit=10**9)
        platforms = {name: open_platform(name, tokens=[(f"MTX_SIM_{name.upper()}", TOKEN.format(name))],
                                         base_url=emu.url + PREFIX[name]) for name in PREFIX}
        all_paths = [(name, p) for name, ps in paths.items() for p in ps]
        with ThreadPoolExecutor(threads) as pool:
            first = dict(zip(all_paths, pool.map(lambda t: collect_repository(platforms[t[0]], t[1], {})[0],
                                                 all_paths)))
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        changed = {p for _, p in all_paths if rng.random() < changed_share}
        for path in changed:
            change(world, path, now)
        emu.clear_log()
        with ThreadPoolExecutor(threads) as pool:
            again = dict(zip(all_paths, pool.map(lambda t: collect_repository(platforms[t[0]], t[1], first[t])[1],
                                                 all_paths)))
        log = list(emu.log)
        for platform in platforms.values():
            platform.close()
    out: dict[str, dict] = {}
    for name in PREFIX:
        mine = [p for p in paths[name]]
        unchanged = [p for p in mine if p not in changed]
        touched = [p for p in mine if p in changed]

        def charged(group: set[str]) -> int:
            return sum(1 for r in log if r.spent and platform_of(r.path) == name and _repo_of(r.path, name) in group)
        out[name] = {
            "repos": len(mine), "unchanged": len(unchanged), "changed": len(touched),
            "req_unchanged": sum(again[(name, p)].requests for p in unchanged) / max(len(unchanged), 1),
            "304_unchanged": sum(again[(name, p)].not_modified for p in unchanged) / max(len(unchanged), 1),
            "charged_unchanged": charged(set(unchanged)) / max(len(unchanged), 1),
            "req_changed": sum(again[(name, p)].requests for p in touched) / max(len(touched), 1),
            "charged_changed": charged(set(touched)) / max(len(touched), 1),
            "probes": sum(1 for r in log if platform_of(r.path) == name and r.path.endswith("/rate_limit")),
        }
    return out


def _repo_of(logged_path: str, platform: str) -> str:
    """owner/name of a logged request path (GitLab's URL-encoded project id decoded)."""
    path = logged_path.removeprefix(PREFIX[platform])
    parts = path.strip("/").split("/")
    if platform == "gitlab":
        return parts[1].replace("%2F", "/") if len(parts) > 1 and parts[0] == "projects" else ""
    return "/".join(parts[1:3]) if len(parts) >= 3 and parts[0] == "repos" else ""


def arithmetic(measured: dict[str, dict], target: int, changed_share: float, hours: float, latency: float,
               concurrency: int) -> list[list[str]]:
    """docs/scale.md's table: per platform, nightly requests and charged requests for ``target`` repositories."""
    rows = []
    total_seconds = 0.0
    for name, m in measured.items():
        repos = round(target * SHARE[name])
        unchanged, changed = repos * (1 - changed_share), repos * changed_share
        requests = unchanged * m["req_unchanged"] + changed * m["req_changed"]
        charged = unchanged * m["charged_unchanged"] + changed * m["charged_changed"]
        tokens = math.ceil(charged / (QUOTA_PER_HOUR[name] * hours)) if charged else 0
        total_seconds += requests * latency
        rows.append([name, f"{repos:,}", f"{m['req_unchanged']:.2f}", f"{m['304_unchanged']:.2f}",
                     f"{m['charged_unchanged']:.2f}", f"{m['charged_changed']:.2f}", f"{requests:,.0f}",
                     f"{charged:,.0f}", f"{QUOTA_PER_HOUR[name]:,}/h", str(max(tokens, 1))])
    slots = total_seconds / (hours * 3600)
    rows.append(["all", f"{target:,}", "", "", "", "", "", "", "",
                 f"{math.ceil(slots)} slots = {math.ceil(slots / concurrency)} worker(s) x {concurrency}"])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts, comma-separated")
    parser.add_argument("--per-worker", type=int, default=12, help="repositories per worker (weak scaling)")
    parser.add_argument("--concurrency", type=int, default=2, help="jobs at once per worker")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds added to every emulator answer")
    parser.add_argument("--simulate", type=int, default=5000, help="repositories in the simulation (0: skip)")
    parser.add_argument("--changed", type=float, default=0.1, help="share of repositories changed since last night")
    parser.add_argument("--target", type=int, default=50_000)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--api-latency", type=float, default=0.5, help="seconds per real API request (the arithmetic)")
    parser.add_argument("--threads", type=int, default=16, help="simulation threads")
    args = parser.parse_args(argv)

    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    admin = _admin_url()
    if counts and admin is None:
        print("throughput skipped: set MTX_BENCH_DATABASE_URL (or MTX_TEST_DATABASE_URL) to a PostgreSQL server URL")
    elif counts:
        results = [throughput(n, args.per_worker, args.concurrency, args.latency, admin) for n in counts]
        base = next((r["per_minute"] for r in results if r["workers"] == 1), results[0]["per_minute"] / counts[0])
        print(f"Workers: {args.per_worker} GitHub repositories per worker, {args.concurrency} jobs per worker, "
              f"{args.latency * 1000:.0f} ms added per answer; {os.cpu_count()} CPUs\n")
        _table(["workers", "repos", "collected", "span s", "wall s", "repos/min", "efficiency", "requests",
                "cpu workers s", "cpu emulator s", "cores used"],
               [[str(r["workers"]), str(r["repos"]), str(r["done"]), f"{r['span']:.1f}", f"{r['wall']:.1f}",
                 f"{r['per_minute']:.0f}", f"{r['per_minute'] / (r['workers'] * base):.2f}", str(r["requests"]),
                 f"{r['cpu_workers']:.1f}", f"{r['cpu_emulator']:.1f}", f"{r['cores']:.2f}"] for r in results])
        print()
    if args.simulate:
        started = time.perf_counter()
        measured = simulate(args.simulate, args.changed, args.threads)
        print(f"Simulation: {args.simulate:,} repositories collected, then {args.changed:.0%} changed (one new "
              f"commit) and all re-collected from their bookmarks ({time.perf_counter() - started:.0f} s)\n")
        _table(["platform", "repos", "unchanged", "changed", "req/unchanged", "304/unchanged", "charged/unchanged",
                "req/changed", "charged/changed", "rate_limit probes"],
               [[n, str(m["repos"]), str(m["unchanged"]), str(m["changed"]), f"{m['req_unchanged']:.2f}",
                 f"{m['304_unchanged']:.2f}", f"{m['charged_unchanged']:.2f}", f"{m['req_changed']:.2f}",
                 f"{m['charged_changed']:.2f}", str(m["probes"])] for n, m in measured.items()])
        print(f"\nArithmetic for {args.target:,} repositories, {args.changed:.0%} changed, {args.hours:g} h window, "
              f"{args.api_latency * 1000:.0f} ms per request (docs/scale.md)\n")
        _table(["platform", "repos", "req/unchanged", "free 304s", "charged/unchanged", "charged/changed",
                "requests/night", "charged/night", "quota per token", "tokens"],
               arithmetic(measured, args.target, args.changed, args.hours, args.api_latency, concurrency=8))


if __name__ == "__main__":
    main()
