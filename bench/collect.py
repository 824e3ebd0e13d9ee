"""Collection benchmark: ``python -m bench.collect`` prints one table (``--help`` for the knobs).

What it measures, against the loopback emulator with ``--latency`` (50 ms) added to every answer:
1. 200 repositories across GitHub, Gitee, GitCode and GitLab, collected the way the job does it (one platform
   object shared by a thread pool, one RepositoryCollector per repository, streams in order): requests made
   against the minimum pages the data needs (one per list page of 100, one for the repository), and wall time
   against requests x latency / concurrency.
2. An unchanged re-run from the bookmarks: requests, 304s, quota-spending requests, time.
3. Peak memory collecting the commits of a 100,000-commit repository against a 1,000-commit one, each in a fresh
   subprocess (tracemalloc peak during the collection, and ru_maxrss), without added latency.
4. GrimoireLab Perceval's GitHub backend on the same GitHub repositories (``--enterprise-url`` style base URL at the
   emulator), both collectors one request at a time with the same added latency, requests read from the emulator's
   log: (a) like for like, the streams both collect (repository, issues, pull requests), Perceval's requests split
   into those that list the same data and those that fetch what we do not collect (comments, reactions, reviews,
   PR commits, users); (b) everything each collects, with items per request and wall time against
   requests x latency.
The data is generated in 2023, so every item is outside the 180-day first-response window: the lists are
measured, not the comment look-ups (those cost one request per recent commented item on every platform).
The emulator answers without Nagle's algorithm (tests/emulator/server.py), so wall time over requests x latency
close to 1 means the collector itself adds little.
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


PERCEVAL_CATEGORIES = ("repository", "issue", "pull_request")
SAME_STREAMS = ("repo", "issues", "pulls")


def perceval_kind(path: str) -> str:
    """What a GitHub API request made by Perceval fetches: the lists we also collect, or enrichment we do not."""
    path = path.removeprefix("/api/v3")
    if path == "/rate_limit":
        return "rate limit"
    parts = path.strip("/").split("/")
    if parts[0] == "users":
        return "users (enrichment)"
    tail = parts[3:]  # after repos/OWNER/NAME
    if not tail:
        return "repository"
    if tail == ["issues"]:
        return "issue list"
    if tail[0] == "pulls" and len(tail) == 2:
        return "pull request (one each)"
    return f"{tail[-1]} (enrichment)"  # comments, reactions, reviews, commits, requested_reviewers


def run_perceval(url: str, paths: list[str]) -> tuple[dict[str, int], float, str]:
    """Perceval's GitHub backend over ``paths``: (items per category, seconds, note). ``base_url`` is what
    ``perceval github --enterprise-url`` sets: Perceval appends ``/api/v3``, which the emulator serves."""
    items = {category: 0 for category in PERCEVAL_CATEGORIES}
    try:
        from perceval.backends.core.github import GitHub
    except ImportError as exc:
        return items, 0.0, f"perceval not importable ({exc}): pip install -e '.[bench]'"
    started = time.perf_counter()
    try:
        for path in paths:
            owner, name = path.split("/")
            for category in PERCEVAL_CATEGORIES:
                backend = GitHub(owner=owner, repository=name, api_token=[TOKEN.format("github")], base_url=url,
                                 sleep_for_rate=True)
                items[category] += sum(1 for _ in backend.fetch(category=category))
    except Exception as exc:  # report why, in the table, rather than crash the benchmark
        return items, time.perf_counter() - started, f"perceval failed: {type(exc).__name__}: {str(exc)[:120]}"
    return items, time.perf_counter() - started, "ok"


def run_ours_sequentially(url: str, paths: list[str]) -> tuple[dict[str, RequestStats], dict[str, int], float]:
    """Our GitHub collector over ``paths`` one request at a time, every stream: (requests and items per stream, s)."""
    github = open_platform("github", tokens=[("MTX_BENCH_GITHUB", TOKEN.format("github"))], base_url=url)
    stats = {stream: RequestStats() for stream in STREAMS}
    items = dict.fromkeys(STREAMS, 0)
    started = time.perf_counter()
    try:
        for path in paths:
            repo = github.repository(path)
            for stream in STREAMS:
                run = repo.fetch(stream)
                items[stream] += sum(len(page.records) for page in run)
                stats[stream].add(run.stats)
    finally:
        github.close()
    return stats, items, time.perf_counter() - started


def perceval_tables(emu: Any, world: World, subset: list[str], latency: float) -> list[tuple[list[str], list]]:
    """The two Perceval comparisons as (header, rows) tables, both collectors sequential with ``latency`` added."""
    emu.latency = latency
    emu.clear_log()
    ours, our_items, our_seconds = run_ours_sequentially(emu.url, subset)
    emu.clear_log()
    items, perceval_seconds, note = run_perceval(emu.url, subset)
    kinds: dict[str, int] = {}
    for entry in emu.log:
        kinds[perceval_kind(entry.path)] = kinds.get(perceval_kind(entry.path), 0) + 1
    perceval_requests = sum(kinds.values())
    model_issues = sum(not i.is_pull for p in subset for i in world.repo_by_name(p).issues)
    model_pulls = sum(i.is_pull for p in subset for i in world.repo_by_name(p).issues)

    same = sum(ours[s].requests for s in SAME_STREAMS)
    listing = kinds.get("repository", 0) + kinds.get("issue list", 0) + kinds.get("pull request (one each)", 0)
    like = [["mtx: repo, issues, pulls streams", str(same), str(sum(our_items[s] for s in SAME_STREAMS)),
             _per(sum(our_items[s] for s in SAME_STREAMS), same), "issue and pull lists, 100 a page"],
            ["Perceval: repository, issue, pull_request", str(listing),
             str(sum(items.values())), _per(sum(items.values()), listing),
             "the issue list (PRs included) twice, then one request per PR"],
            ["Perceval: + other requests (data mtx does not collect; rate-limit checks)", str(perceval_requests - listing), "-", "-",
             ", ".join(f"{k.removesuffix(' (enrichment)')} {v}" for k, v in sorted(kinds.items())
                       if "enrichment" in k or k == "rate limit")]]
    our_total = sum(st.requests for st in ours.values())
    everything = [
        ["mtx (all 6 streams)", str(our_total), str(sum(our_items.values())), _per(sum(our_items.values()), our_total),
         f"{our_seconds:.1f}", f"{our_total * latency:.1f}", _ratio(our_seconds, our_total * latency),
         ", ".join(f"{s} {our_items[s]}" for s in STREAMS)],
        ["Perceval (3 categories)", str(perceval_requests), str(sum(items.values())),
         _per(sum(items.values()), perceval_requests), f"{perceval_seconds:.1f}", f"{perceval_requests * latency:.1f}",
         _ratio(perceval_seconds, perceval_requests * latency),
         f"{note}; " + ", ".join(f"{c} {n}" for c, n in items.items())
         + f"; the model holds {model_issues} issues and {model_pulls} PRs"]]
    return [(["(a) same streams, " + f"{len(subset)} GitHub repos", "requests", "items", "items/req", "what"], like),
            (["(b) everything each collects", "requests", "items", "items/req", "wall s", "req*lat s",
              "wall/(req*lat)", "items by stream"], everything)]


def _per(items: int, requests: int) -> str:
    return f"{items / requests:.1f}" if requests else "-"


def _ratio(seconds: float, ideal: float) -> str:
    return f"{seconds / ideal:.2f}" if ideal else "-"


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
                  "req*lat/conc s", "wall/ideal", "cpu s", "re-run req", "re-run 304", "re-run quota", "re-run s"]
        for name in PREFIX:
            n = len(paths[name])
            requests = sum(s.requests for _, s, _ in first[name].values())
            minimum = sum(minimum_pages(world, p, name) for p in paths[name])
            again = sum(s.requests for _, s, _ in second[name].values())
            not_modified = sum(s.not_modified for _, s, _ in second[name].values())
            spent = sum(1 for e in second_log if platform_of(e.path) == name and e.spent)
            rows.append([name, str(n), str(requests), str(minimum), f"{requests / n:.2f}", f"{minimum / n:.2f}",
                         f"{first_wall[name]:.1f}", f"{requests * args.latency / args.concurrency:.1f}",
                         _ratio(first_wall[name], requests * args.latency / args.concurrency),
                         f"{first_wall[name + ':cpu']:.1f}", str(again),
                         str(not_modified), str(spent), f"{second_wall[name]:.1f}"])
        for platform in platforms.values():
            platform.close()

        perceval = perceval_tables(emu, world, paths["github"][: args.perceval_repos], args.latency)

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
    print(f"Perceval's GitHub backend against ours, the same repositories, one request at a time, "
          f"{args.latency * 1000:.0f} ms added per answer\n")
    for table_header, table_rows in perceval:
        _table(table_header, table_rows)
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
