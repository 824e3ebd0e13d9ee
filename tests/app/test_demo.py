"""`mtx demo --port P` builds mtx-demo.db in the working directory, prints the accounts, and serves the app."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

MTX = str(Path(sys.executable).parent / "mtx")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(cwd: Path, port: int, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTX_")}
    return subprocess.Popen([MTX, "demo", "--port", str(port), *extra], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def wait_healthy(proc: subprocess.Popen, port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            if r.status_code == 200 and r.text == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the demo did not answer /_stcore/health in time")


def stop(proc: subprocess.Popen) -> str:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out


@pytest.mark.slow
def test_demo_builds_the_database_prints_accounts_and_answers_health(tmp_path):
    port = free_port()
    proc = start_demo(tmp_path, port)
    try:
        wait_healthy(proc, port)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "<div id=\"root\">" in page.text
    finally:
        out = stop(proc)
    assert (tmp_path / "mtx-demo.db").exists()
    assert "用户名 admin" in out and "密码 mtx-demo-admin" in out and "用户名 enterprise" in out
    assert f"http://localhost:{port}" in out

    # a second start reuses the database; --reset rebuilds it
    port = free_port()
    proc = start_demo(tmp_path, port)
    try:
        wait_healthy(proc, port)
    finally:
        out = stop(proc)
    assert "复用演示数据库" in out
