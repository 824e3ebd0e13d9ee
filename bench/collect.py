"""Collection benchmark: ``python -m bench.collect`` prints one table (``--help`` for the knobs).

What it measures, against the loopback emulator with ``--latency`` (50 ms) added to every answer:
1. 200 repositories across GitHub, Gitee, GitCode and GitLab, collected the way the job does it (one platform
   object shared by a thread pool, one RepositoryCollector per repository, streams in order): requests made
   against the minimum pages the data needs (one per list page of 100, one for the repository), and wall time
   against requests x latency / concurrency.
2. An unchanged re-run from the bookmarks: requests, 304s, quota-spending requests, time.
3. Peak memory collecting the commits of a 100,000-commit repository against a 1,000-commit one, each in a fresh
   subprocess (tracemalloc peak during the collection, and ru_maxrss), without added latency.
4. The same GitHub data (repository, issues, pull requests) collected by GrimoireLab Perceval's GitHub backend
   through ``--enterprise-url`` style base URL at the emulator, its requests counted from the emulator's log.
The data is generated in 2023, so every item is outside the 180-day first-response window: the lists are
measured, not the comment look-ups (those cost one request per recent commented item on every platform).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from collector import STREAMS, RequestStats, open_platform
from tests.emulator import World, generate_repo, running_emulator

PREFIX = {"github": "", "gitee": "/api/v5", "gitcode": "/gitcode/api/v5", "gitlab": "/api/v4"}
SHARE = {"github": 0.3, "gitee": 0.25, "gitcode": 0.25, "gitlab": 0.2}
TOKEN = "bench-token-{}"


def build_world(total: int, seed: int = 0) -> tuple[World, dict[str, list[str]]]:
    """``total`` repositories split over the platforms, sizes drawn from a skewed distribution."""
    rng = random.Random(seed)
    world = World()
    paths: dict[str, list[str]] = {p: [] for p in SHARE}
    for index in range(total):
        platform = _platform_for(index, total)
        owner = f"bench-{platform}" + ("/team/sub" if platform == "gitlab" and index % 3 == 0 else "")
        path = f"{owner}/repo{index:03d}"
        generate_repo(world, path, commits=20 + int(rng.paretovariate(1.2) * 60) % 900, seed=index,
                      issues=rng.randint(0, 40), pulls=rng.randint(0, 30), releases=rng.randint(0, 4),
                      unlinked_every=rng.choice([0, 5]), merge_every=rng.choice([0, 8]), only_on=(platform,))
        paths[platform].append(path)
    return world, paths


def _platform_for(index: int, total: int) -> str:
    edge = 0.0
    for platform, share in SHARE.items():
        edge += share
        if index < round(edge * total):
            return platform
    return "gitlab"


def minimum_pages(world: World, path: str, platform: str) -> int:
    """One request for the repository plus one per 100 items of every list (at least one per list)."""
    repo = world.repo_by_name(path)

    def pages(n: int) -> int:
        return max(1, math.ceil(n / 100))
    issues = sum(not i.is_pull for i in repo.issues)
    pulls = len(repo.issues) - issues
    authors = len({c.author.email.lower() for c in repo.commits})
    releases = len(repo.releases) if platform == "github" else sum(not r.draft for r in repo.releases)
    listed_issues = issues + pulls if platform == "github" else issues  # GitHub's issue list holds the PRs
    return 1 + pages(len(repo.commits)) + pages(authors) + pages(releases) + pages(listed_issues) + pages(pulls)


def collect_repository(platform: Any, path: str, bookmarks: dict[str, str]) -> tuple[dict[str, str], RequestStats,
                                                                                      dict[str, RequestStats]]:
    """What the job does for one repository: every stream, page by page, keeping the bookmark of each page."""
    repo = platform.repository(path)
    total, per_stream, marks = RequestStats(), {}, dict(bookmarks)
    for stream in STREAMS:
        run = repo.fetch(stream, bookmarks.get(stream))
        for page in run:
            marks[stream] = page.bookmark.dumps()
        total.add(run.stats)
        per_stream[stream] = run.stats
    return marks, total, per_stream


def run_all(platforms: dict[str, Any], paths: dict[str, list[str]], bookmarks: dict[str, dict[str, str]],
            concurrency: int) -> tuple[dict[str, dict], dict[str, float]]:
    """Each platform's repositories on a thread pool of ``concurrency``; wall time per platform."""
    results: dict[str, dict] = {}
    walls: dict[str, float] = {}

    def one_platform(name: str) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(concurrency) as pool:
            futures = {p: pool.submit(collect_repository, platforms[name], p, bookmarks.get(p, {}))
                       for p in paths[name]}
            results[name] = {p: f.result() for p, f in futures.items()}
        walls[name] = time.perf_counter() - started
        walls[name + ":cpu"] = time.process_time() - cpu  # emulator and collector share this process

    for name in platforms:  # one platform at a time, so each wall time compares with its own ideal
        one_platform(name)
    return results, walls


def platform_of(logged_path: str) -> str:
    for name in ("gitcode", "gitee", "gitlab"):
        if logged_path.startswith(PREFIX[name] + "/"):
            return name
    return "github"


def measure_memory(url: str, path: str) -> dict[str, Any]:
    """Collect one repository's commits in a fresh interpreter; report its peaks."""
    env = dict(os.environ, MTX_BENCH_TOKEN=TOKEN.format("github"))
    out = subprocess.run([sys.executable, "-m", "bench.collect", "--memory-child", url, path], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_child(url: str, path: str) -> None:
    import resource
    import tracemalloc
    github = open_platform("github", tokens=[("MTX_BENCH_TOKEN", os.environ["MTX_BENCH_TOKEN"])], base_url=url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    count = 0
    for page in github.repository(path).fetch("commits"):
        count += len(page.records)  # the job stores and drops each page
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"commits": count, "tracemalloc_peak_mb": peak / 2**20,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rss_before_mb": before / 1024}))


def run_perceval(url: str, paths: list[str]) -> tuple[int | None, int, str]:
    """Perceval's GitHub backend over the same repositories; (items, 0, note). ``base_url`` is what
    ``perceval github --enterprise-url`` sets: Perceval appends ``/api/v3``, which the emulator serves."""
    try:
        from perceval.backends.core.github import GitHub
    except ImportError as exc:
        return None, 0, f"perceval not importable: {exc}"
    items = 0
    try:
        for path in paths:
            owner, name = path.split("/")
            for category in ("repository", "issue", "pull_request"):
                backend = GitHub(owner=owner, repository=name, api_token=[TOKEN.format("github")], base_url=url,
                                 sleep_for_rate=True)
                items += sum(1 for _ in backend.fetch(category=category))
    except Exception as exc:  # report why, in the table, rather than crash the benchmark
        return items, 0, f"perceval failed: {type(exc).__name__}: {str(exc)[:120]}"
    return items, 0, "ok"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.collect", description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--perceval-repos", type=int, default=10)
    parser.add_argument("--memory-child", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(*args.memory_child)
        return

    world, paths = build_world(args.repos)
    rows: list[list[str]] = []
    with running_emulator(world) as emu:
        for name in PREFIX:
            emu.add_token(TOKEN.format(name), limit=10**9)
        emu.latency = args.latency
        platforms = {name: open_platform(name, tokens=[(f"MTX_BENCH_{name.upper()}", TOKEN.format(name))],
                                         base_url=emu.url + PREFIX[name]) for name in PREFIX}
        first, first_wall = run_all(platforms, paths, {}, args.concurrency)
        emu.clear_log()
        bookmarks = {p: marks for per in first.values() for p, (marks, _, _) in per.items()}
        second, second_wall = run_all(platforms, paths, bookmarks, args.concurrency)
        second_log = list(emu.log)
        header = ["platform", "repos", "requests", "min pages", "req/repo", "min/repo", "wall s",
                  "req*lat/conc s", "cpu s", "re-run req", "re-run 304", "re-run quota", "re-run s"]
        for name in PREFIX:
            n = len(paths[name])
            requests = sum(s.requests for _, s, _ in first[name].values())
            minimum = sum(minimum_pages(world, p, name) for p in paths[name])
            again = sum(s.requests for _, s, _ in second[name].values())
            not_modified = sum(s.not_modified for _, s, _ in second[name].values())
            spent = sum(1 for e in second_log if platform_of(e.path) == name and e.spent)
            rows.append([name, str(n), str(requests), str(minimum), f"{requests / n:.2f}", f"{minimum / n:.2f}",
                         f"{first_wall[name]:.1f}", f"{requests * args.latency / args.concurrency:.1f}",
                         f"{first_wall[name + ':cpu']:.1f}", str(again),
                         str(not_modified), str(spent), f"{second_wall[name]:.1f}"])
        for platform in platforms.values():
            platform.close()

        emu.latency = 0.0
        subset = paths["github"][: args.perceval_repos]
        ours = sum(first["github"][p][2][s].requests for p in subset for s in ("repo", "issues", "pulls"))
        emu.latency = args.latency
        emu.clear_log()
        started = time.perf_counter()
        items, _, note = run_perceval(emu.url, subset)
        perceval_seconds = time.perf_counter() - started
        perceval_requests = len(emu.log)
        model_items = sum(len(world.repo_by_name(p).issues) for p in subset)

    big_world = World()
    for size in (args.small, args.big):
        generate_repo(big_world, f"mem/commits-{size}", commits=size, seed=size, people=12)
    with running_emulator(big_world) as emu:
        emu.add_token(TOKEN.format("github"), limit=10**9)
        memory = {size: measure_memory(emu.url, f"mem/commits-{size}") for size in (args.small, args.big)}

    print(f"Collection benchmark: {args.repos} repositories, {args.latency * 1000:.0f} ms added per answer, "
          f"{args.concurrency} threads, one platform at a time; cpu s = emulator + collector, one process\n")
    _table(header, rows)
    print()
    _table(["collector (same GitHub repos)", "repos", "requests", "items", "seconds", "note"],
           [["mtx (repo, issues, pulls streams)", str(len(subset)), str(ours),
             str(sum(len(world.repo_by_name(p).issues) + 1 for p in subset)), "-", "first run, from the table above"],
            ["Perceval GitHub (repository, issue, pull_request)", str(len(subset)), str(perceval_requests),
             str(items if items is not None else "-"), f"{perceval_seconds:.1f}",
             f"{note}; model holds {model_items} issues+PRs"]])
    print()
    _table(["commits in repository", "collected", "tracemalloc peak MB", "ru_maxrss MB", "rss before MB"],
           [[f"{size:,}", f"{m['commits']:,}", f"{m['tracemalloc_peak_mb']:.1f}", f"{m['maxrss_mb']:.1f}",
             f"{m['rss_before_mb']:.1f}"] for size, m in memory.items()])


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    main()
