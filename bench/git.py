"""Git collector benchmark: ``python -m bench.git [PATH_OR_URL]`` prints one table (``--help`` for the knobs).

Without an argument it generates a repository of ``--commits`` (100,000) linear commits with ``git fast-import``
(50 authors, four time zones, a tag every 1,000 commits; no network) and one of ``--small`` (1,000) for the memory
comparison. With a PATH (a local clone) or a URL (cloned once into a local bare copy first: the only network use),
that repository is measured too — the generated one is always measured.

From a warm mirror (``collector.gitclone.MirrorCache``, already cloned; the collection then only fetches from a
local source), each step in a fresh subprocess (wall time; peak RSS from ``wait4``), best of ``--repeat``:

(a) ``parse``: our parse step alone — the collector's streaming ``git log`` and parser turning every commit of the
    default branch into ``collector.records.Commit`` records — against ``bare``: ``git log --format=%H%x00%an%x00
    %ae%x00%at%x00%cn%x00%ce%x00%ct`` read and discarded (goal ≤ 1.3×);
(b) ``collect``: our whole collection through ``CollectionJob`` (``mtx collect``'s code: fetch, ``repo``,
    ``commits`` and ``releases`` streams, every page stored with its bookmark, people resolution at the end) into a
    fresh SQLite database (``--database-url`` for another, e.g. PostgreSQL), against ``bare`` (goal ≤ 3×);
(c) ``perceval``: GrimoireLab Perceval's git backend (``perceval.backends.core.git.Git(...).fetch()``, the bench
    extra) over a full bare copy of the same history (on our blob-less mirror its ``git log --raw --numstat`` would
    fetch every blob first) against (b) (goal: ours ≥ 3× faster); it is reported unavailable, with the reason, when
    Perceval is not installed;
(d) ``dulwich`` and ``pygit2``: a walk of the same commits with each library where installed (dulwich comes with
    Perceval), to say why the collector runs ``git log`` rather than a library;
and peak memory of (a) and (b) for ``--small`` vs ``--commits`` commits (goal ≤ 1.2×).

The floor of (b) is measured in the same run: the rows (b) stored, re-inserted from memory by the database's own
bulk path with nothing else (``floor``) — what storing them costs at the least on this machine and database.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_FORMAT = "--format=%H%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct"


# -- steps (each runs in its own process) ------------------------------------------------------------------------


def step_bare(mirror: str) -> dict:
    began = time.perf_counter()
    proc = subprocess.Popen(["git", "log", BARE_FORMAT, "HEAD"], cwd=mirror, stdout=subprocess.PIPE,
                            env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    lines = 0
    while chunk := proc.stdout.read(1 << 20):
        lines += chunk.count(b"\n")
    proc.wait()
    return {"items": lines, "inner": time.perf_counter() - began}


def step_parse(mirror: str) -> dict:
    from collector.git import GitCollector, GitSettings
    from collector.gitclone import log_args, parse_log

    collector = GitCollector(git=GitSettings(cache_dir=Path(mirror).parent))
    repo = collector.repository("file:///bench")
    tip = subprocess.run(["git", "rev-parse", "HEAD"], cwd=mirror, capture_output=True, text=True).stdout.strip()
    began = time.perf_counter()
    count = 0
    for fields in parse_log(collector.runner.stream(log_args(tip), cwd=mirror, what="log")):
        repo._commit(fields)
        count += 1
    return {"items": count, "inner": time.perf_counter() - began}


def step_collect(source: str, cache: str, database_url: str) -> dict:
    from tracker import db as dbm
    from tracker.access import Actor
    from tracker.collect.job import CollectionJob, CollectOptions
    from tracker.config import load_config

    config_dir = Path(tempfile.mkdtemp(prefix="bench-git-config-"))
    (config_dir / "communities.yaml").write_text(
        "communities:\n  - slug: bench\n    name: 基准\n    repositories:\n"
        f"      - {{platform: git, url: \"file://{source}\"}}\n", encoding="utf-8")
    dbm.upgrade(database_url)
    config = load_config(config_dir)
    job = CollectionJob(database_url, config, Actor("bench", "admin", None),
                        CollectOptions(git_cache=cache, concurrency=1))
    began = time.perf_counter()
    summary = job.run()
    inner = time.perf_counter() - began
    outcome = summary.outcomes[0]
    if outcome.status != "ok":
        raise SystemExit(f"collection failed: {outcome.error}")
    shutil.rmtree(config_dir, ignore_errors=True)
    return {"items": outcome.items.get("commits", 0), "inner": inner, "repository_seconds": outcome.duration}


def step_floor(database_url: str) -> dict:
    """The database's own cost of the rows (b) stored: every commit row of the collected database read into
    memory, deleted, and inserted again as (b) does — pages of 5,000 in sha order, one transaction each, plain
    INSERT from tuples (SQLite: executemany; PostgreSQL: COPY) into the same table with its indexes and foreign
    keys. No parsing, people, aggregates or bookmarks: what storing the rows costs at the least."""
    from tracker import db as dbm
    from tracker.collect.store import COMMIT_COLUMNS

    columns = ", ".join(COMMIT_COLUMNS)
    engine = dbm.get_engine(database_url)
    with engine.begin() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {columns} FROM commits ORDER BY id")]
        conn.exec_driver_sql("DELETE FROM commits")
    postgres = engine.dialect.name == "postgresql"
    began = time.perf_counter()
    for start in range(0, len(rows), 5000):
        page = sorted(rows[start:start + 5000], key=lambda r: r[1])
        with engine.begin() as conn:
            if postgres:
                with conn.connection.dbapi_connection.cursor() as cursor:
                    with cursor.copy(f"COPY commits ({columns}) FROM STDIN") as copy:
                        for row in page:
                            copy.write_row(row)
            else:
                marks = ", ".join("?" * len(COMMIT_COLUMNS))
                conn.exec_driver_sql(f"INSERT INTO commits ({columns}) VALUES ({marks})", page)
    return {"items": len(rows), "inner": time.perf_counter() - began}


def step_perceval(full_copy: str, source: str) -> dict:
    try:
        from perceval.backends.core.git import Git
    except ImportError as exc:
        return {"unavailable": f"perceval is not installed ({exc}); pip install -e '.[bench]'"}
    began = time.perf_counter()
    count = 0
    for _ in Git(uri=f"file://{source}", gitpath=full_copy).fetch():
        count += 1
    return {"items": count, "inner": time.perf_counter() - began}


def step_dulwich(mirror: str) -> dict:
    try:
        from dulwich.repo import Repo
    except ImportError as exc:
        return {"unavailable": f"dulwich is not installed ({exc})"}
    began = time.perf_counter()
    count = 0
    repo = Repo(mirror)
    for entry in repo.get_walker():
        commit = entry.commit
        commit.author, commit.author_time, commit.committer, commit.commit_time, commit.parents, commit.message
        count += 1
    return {"items": count, "inner": time.perf_counter() - began}


def step_pygit2(mirror: str) -> dict:
    try:
        import pygit2
    except ImportError as exc:
        return {"unavailable": f"pygit2 is not installed ({exc})"}
    began = time.perf_counter()
    repo = pygit2.Repository(mirror)
    count = 0
    for commit in repo.walk(repo.head.target):
        commit.author.name, commit.author.email, commit.author.time, commit.committer.name, commit.parent_ids
        commit.message
        count += 1
    return {"items": count, "inner": time.perf_counter() - began}


def step_generate(path: str, commits: str) -> dict:
    from tests.collector.git_builder import fast_generate

    fast_generate(Path(path), int(commits))
    return {"items": int(commits)}


def own_peak_mb() -> float:
    """This process's peak RSS (VmHWM belongs to the address space, so unlike ``ru_maxrss`` it does not start from
    the parent's size at fork)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


STEPS = {"bare": step_bare, "pygit2": step_pygit2, "generate": step_generate, "parse": step_parse,
         "collect": step_collect, "floor": step_floor, "perceval": step_perceval, "dulwich": step_dulwich}


def measure(step: str, *args: str, repeat: int = 1) -> dict:
    """Best time of ``repeat`` fresh processes running ``step`` (``seconds``: measured inside the step, after the
    interpreter started and imported what it needs; ``process``: the whole process); peak RSS (MB) of the best."""
    best = None
    for _ in range(repeat):
        began = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bench.git", "--step", step, *args], stdout=subprocess.PIPE,
                                env=os.environ)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        process = time.perf_counter() - began
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"step {step} failed")
        result = json.loads(out.decode().strip().splitlines()[-1])
        result.update(seconds=result.get("inner", process), process=process, tree_rss_mb=usage.ru_maxrss / 1024,
                      rss_mb=result.get("self_rss_mb", usage.ru_maxrss / 1024))
        seconds = result["seconds"]
        if "unavailable" in result:
            return result
        if best is None or seconds < best["seconds"]:
            best = result
    return best


# -- preparation ---------------------------------------------------------------------------------------------------


def prepare(source: str, work: Path) -> dict:
    """A warm mirror of ``source`` in ``work/cache``, a full bare copy for Perceval, a fresh database URL maker."""
    from collector.gitclone import MirrorCache, normalise_clone_url

    cache = work / "cache"
    state = MirrorCache(cache).update(normalise_clone_url(f"file://{source}"), f"file://{source}")
    full = work / "full.git"
    subprocess.run(["git", "clone", "-q", "--bare", source, str(full)], check=True)
    return {"mirror": str(state.path), "cache": str(cache), "full": str(full), "source": source}


def generated(work: Path, commits: int) -> str:
    path = work / f"generated-{commits}.git"
    began = time.perf_counter()
    measure("generate", str(path), str(commits))  # in a child: this process stays small (children start at its size)
    print(f"generated {commits:,} commits with git fast-import in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return str(path)


def local_copy(target: str, work: Path) -> str:
    """A PATH as is; a URL cloned once into a local bare copy (the benchmark's only network use)."""
    if "://" not in target and not target.startswith("git@") and Path(target).exists():
        return str(Path(target).resolve())
    path = work / "remote-copy.git"
    print(f"cloning {target} once (network) ...", file=sys.stderr)
    subprocess.run(["git", "clone", "-q", "--bare", target, str(path)], check=True)
    return str(path)


def bench_repository(name: str, source: str, work: Path, args) -> list[tuple]:
    place = work / name
    place.mkdir()
    ready = prepare(source, place)
    rows = []
    bare = measure("bare", ready["mirror"], repeat=args.repeat)
    parse = measure("parse", ready["mirror"], repeat=args.repeat)
    database = args.database_url or f"sqlite:///{place / 'bench.db'}"
    collect = measure("collect", ready["source"], ready["cache"], database, repeat=1)
    def mb(r: dict) -> str:
        return f"{r['rss_mb']:.0f} MB ({r['tree_rss_mb']:.0f} with git)"

    rows.append((name, "commits", f"{bare['items']:,}", "peak RSS: the Python process (with children)", ""))
    rows.append((name, "bare git log", f"{bare['seconds']:.2f} s", f"{bare['tree_rss_mb']:.0f} MB", ""))
    rows.append((name, "(a) our parse", f"{parse['seconds']:.2f} s", mb(parse),
                 f"{parse['seconds'] / bare['seconds']:.2f}× bare (goal ≤ 1.3×)"))
    resolution = collect["seconds"] - collect["repository_seconds"]
    floor = measure("floor", database, repeat=1)  # after (b): it empties and refills (b)'s commit table
    rows.append((name, "(b) our collection + DB", f"{collect['seconds']:.2f} s", mb(collect),
                 f"{collect['seconds'] / bare['seconds']:.2f}× bare (goal ≤ 3×), {collect['seconds'] / floor['seconds']:.2f}× "
                 f"the rows' insert alone; {collect['items']:,} stored; repository {collect['repository_seconds']:.1f} s "
                 f"+ people resolution and aggregates {resolution:.1f} s"))
    rows.append((name, "    floor: insert the rows", f"{floor['seconds']:.2f} s", "",
                 f"{floor['seconds'] / bare['seconds']:.2f}× bare: the same {floor['items']:,} rows re-inserted "
                 "from memory, pages of 5,000, no parsing, people or aggregates"))
    if not args.skip_perceval:
        perceval = measure("perceval", ready["full"], ready["source"], repeat=1)
        if "unavailable" in perceval:
            rows.append((name, "(c) Perceval git", "unavailable", "", perceval["unavailable"]))
        else:
            rows.append((name, "(c) Perceval git", f"{perceval['seconds']:.2f} s", mb(perceval),
                         f"our parse {perceval['seconds'] / parse['seconds']:.1f}× faster, our collection with "
                         f"DB writes {perceval['seconds'] / collect['seconds']:.1f}× (goal ≥ 3×)"))
    dulwich = measure("dulwich", ready["mirror"], repeat=1)
    if "unavailable" in dulwich:
        rows.append((name, "(d) dulwich walk", "unavailable", "", dulwich["unavailable"]))
    else:
        rows.append((name, "(d) dulwich walk", f"{dulwich['seconds']:.2f} s", mb(dulwich),
                     f"{dulwich['seconds'] / parse['seconds']:.1f}× our parse"))
    pygit = measure("pygit2", ready["mirror"], repeat=1)
    if "unavailable" in pygit:
        rows.append((name, "(d) pygit2 walk", "unavailable", "", pygit["unavailable"]))
    else:
        rows.append((name, "(d) pygit2 walk", f"{pygit['seconds']:.2f} s", mb(pygit),
                     f"{pygit['seconds'] / parse['seconds']:.1f}× our parse"))
    return rows, parse, collect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.git", description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", help="a local clone (PATH) or a clone URL, measured beside the "
                                                  "generated repository")
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="where (b) stores (default: a fresh SQLite file per repository)")
    parser.add_argument("--skip-perceval", action="store_true")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.step:
        values = ([args.target] if args.target else []) + rest
        result = STEPS[args.step](*values)
        result["self_rss_mb"] = own_peak_mb()
        print(json.dumps(result))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-git-"))
    try:
        rows, parse_big, collect_big = bench_repository(f"generated {args.commits:,}", generated(work, args.commits),
                                                        work, args)
        small = Path(generated(work, args.small))
        place = work / "small"
        place.mkdir()
        ready = prepare(str(small), place)
        parse_small = measure("parse", ready["mirror"], repeat=args.repeat)
        collect_small = measure("collect", ready["source"], ready["cache"],
                                f"sqlite:///{place / 'bench.db'}", repeat=1)
        rows.append(("memory", f"(a) parse {args.small:,} vs {args.commits:,}",
                     f"{parse_small['rss_mb']:.0f} / {parse_big['rss_mb']:.0f} MB", "",
                     f"{parse_big['rss_mb'] / parse_small['rss_mb']:.2f}× (goal ≤ 1.2×)"))
        rows.append(("memory", f"(b) collection {args.small:,} vs {args.commits:,}",
                     f"{collect_small['rss_mb']:.0f} / {collect_big['rss_mb']:.0f} MB", "",
                     f"{collect_big['rss_mb'] / collect_small['rss_mb']:.2f}× (goal ≤ 1.2×)"))
        if args.target:
            more, _, _ = bench_repository("given", local_copy(args.target, work), work, args)
            rows += more
        widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
        for row in rows:
            print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
