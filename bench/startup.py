"""Start-up benchmark: ``python -m bench.startup`` prints how long `mtx` takes before it does anything.

Wall time (median and best of ``--runs`` fresh processes) of ``mtx --help`` and ``mtx status`` on an empty, initialised
SQLite database, next to the floor: ``python -c pass`` and ``python -c "import sqlalchemy"`` (``mtx status`` cannot
avoid SQLAlchemy). Then ``python -X importtime`` for each command: the imports that cost most. The goal is under
0.5 s for both commands; the machine's load average is printed with the figures, since they depend on it.

``--baseline DIR`` also times another checkout of the project (e.g. ``git worktree add /tmp/before main``), run by
this interpreter with DIR first on the path, alternating with this one so that both see the same load.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 0.5


def mtx_command() -> list[str]:
    """The installed `mtx` script beside this interpreter, else the same entry point through -c."""
    script = Path(sys.executable).with_name("mtx")
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "from tracker.cli import entrypoint; entrypoint()"]


def timed(argv: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return seconds


def baseline_env(env: dict[str, str], tree: str) -> dict[str, str]:
    return dict(env, PYTHONPATH=os.pathsep.join([tree, *filter(None, [env.get("PYTHONPATH")])]))


def import_costs(argv: list[str], env: dict[str, str], top: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(top-level imports by cumulative µs, any import by self µs), from ``-X importtime``."""
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=env, capture_output=True, text=True)
    direct, own = [], []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_text, cumulative_text, module = line.split(":", 1)[1].split("|", 2)
        self_us, cumulative_us, module = int(self_text), int(cumulative_text), module.rstrip()
        own.append((self_us, module.strip()))
        if not module.startswith("  "):  # importtime indents nested imports by two spaces per level
            direct.append((cumulative_us, module.strip()))
    return sorted(direct, reverse=True)[:top], sorted(own, reverse=True)[:top]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per command (median and best shown)")
    parser.add_argument("--top", type=int, default=8, help="imports listed per command")
    parser.add_argument("--baseline", metavar="DIR", help="another checkout to time alongside (before/after)")
    args = parser.parse_args(argv)
    mtx = mtx_command()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, MTX_DATABASE_URL=f"sqlite:///{Path(tmp) / 'empty.db'}", MTX_CONFIG=str(Path(tmp)))
        env.pop("PYTHONPROFILEIMPORTTIME", None)
        subprocess.run([*mtx, "init"], env=env, check=True, capture_output=True)
        commands = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            'python -c "import sqlalchemy" (floor)': [sys.executable, "-c", "import sqlalchemy"],
            "mtx --help": [*mtx, "--help"],
            "mtx status (empty database)": [*mtx, "status"],
        }
        load = os.getloadavg()
        print(f"Start-up benchmark: {args.runs} runs each; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"on {os.cpu_count()} CPUs; goal: mtx commands under {GOAL_SECONDS} s\n")
        base = baseline_env(env, str(Path(args.baseline).resolve())) if args.baseline else None
        entry = [sys.executable, "-c", "from tracker.cli import entrypoint; entrypoint()"]
        print(f"{'command':<40} {'median s':>9} {'best s':>7}  goal" + ("   baseline median s  best s"
                                                                        if base else ""))
        for label, command in commands.items():
            times, before = [], []
            for _ in range(args.runs):
                times.append(timed(command, env))
                if base is not None:  # the other tree's code, run from its directory (its package first)
                    other = entry + command[len(mtx):] if command[:len(mtx)] == mtx else command
                    before.append(timed(other, base, cwd=args.baseline))
            goal = "" if label.startswith("python") else ("met" if statistics.median(times) < GOAL_SECONDS
                                                          else "NOT met")
            extra = f"   {statistics.median(before):>17.3f} {min(before):>7.3f}" if before else ""
            print(f"{label:<40} {statistics.median(times):>9.3f} {min(times):>7.3f}  {goal:<7}{extra}")
        for label in ("mtx --help", "mtx status (empty database)"):
            direct, own = import_costs(commands[label], env, args.top)
            print(f"\n{label}: python -X importtime (ms)")
            print(f"  {'top-level import':<44} {'cumulative':>10}   {'any import':<44} {'self':>6}")
            for (cum, name), (self_us, own_name) in zip(direct + [(0, "")] * (len(own) - len(direct)), own):
                left = f"{name:<44} {cum / 1000:>10.1f}" if name else " " * 55
                print(f"  {left}   {own_name:<44} {self_us / 1000:>6.1f}")


if __name__ == "__main__":
    main()
