"""`mtx` starts without loading what the command does not need (the timings: `python -m bench.startup`).

Each check runs a fresh interpreter, since the test process has long imported everything, and reads the modules it
loaded: a heavy import at the top of a command module, or work done at import time, shows up here.
"""
from __future__ import annotations

import json
import subprocess
import sys

from tracker import db as dbm

PROBE = r"""
import json, sys
from tracker.cli import main
code = main(sys.argv[1:])
users = sys.modules.get("tracker.users")
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules}),
                  "hashed": bool(users and users._dummy_hash.cache_info().currsize)}))
"""
HEAVY_FOR_HELP = {"sqlalchemy", "pydantic", "argon2", "rich", "alembic", "openpyxl", "httpx", "github", "gitlab"}


def run_mtx(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_loads_no_database_validation_or_rich_formatting():
    result = run_mtx("--help")
    assert result["code"] == 0
    assert HEAVY_FOR_HELP.isdisjoint(result["modules"]), sorted(HEAVY_FOR_HELP & set(result["modules"]))


def test_status_on_an_empty_database_needs_no_alembic_and_hashes_no_password(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    dbm.upgrade(url)
    result = run_mtx("--db", url, "status")
    assert result["code"] == 0
    assert "alembic" not in result["modules"]
    assert "sqlalchemy" in result["modules"]  # the probe did reach the database
    assert result["hashed"] is False


def test_head_read_without_alembic_is_alembics_head():
    from alembic.script import ScriptDirectory

    assert dbm.head_revision() == ScriptDirectory.from_config(dbm.alembic_config(dbm.DEFAULT_URL)).get_current_head()


def test_a_database_behind_head_is_still_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    dbm.upgrade(url, "0001")
    done = subprocess.run([sys.executable, "-c", PROBE, "--db", url, "status"], capture_output=True, text=True,
                          timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1])["code"] == 1
    assert f"at 0001, head is {dbm.head_revision()}" in done.stderr and "mtx --db" in done.stderr
