"""The pieces under the git collector: clone URLs, the fenced git runner, mirrors, the streaming log parser."""
from __future__ import annotations

import datetime as dt
import socket
import subprocess
import threading
import time

import pytest

from collector.gitclone import (GitRunner, GitTimeout, InvalidCloneUrl, MirrorCache, log_args, normalise_clone_url,
                                parse_log)
from tests.collector.git_builder import History, Person, expected_commits, generate, git


@pytest.mark.parametrize("url, key", [
    ("https://Git.Example.CN/Group/Kernel.git", "https://git.example.cn/Group/Kernel"),
    ("https://git.example.cn/group/kernel/", "https://git.example.cn/group/kernel"),
    ("https://user:ghp_SECRET0123@git.example.cn:8443/g/k.git", "https://git.example.cn:8443/g/k"),
    ("ssh://git@git.example.cn:2222/g/k.git", "ssh://git@git.example.cn:2222/g/k"),
    ("ssh://git:pw@git.example.cn/g/k", "ssh://git@git.example.cn/g/k"),
    ("git@gitee.com:openharmony/docs.git", "git@gitee.com:openharmony/docs"),
    ("file:///srv/git/kernel.git/", "file:///srv/git/kernel"),
    ("git://git.example.cn/k.git", "git://git.example.cn/k"),
])
def test_the_natural_key_of_a_clone_url(url, key):
    assert normalise_clone_url(url) == key


@pytest.mark.parametrize("url, says", [
    ("ftp://host/x", "scheme 'ftp' is not allowed"), ("ext::sh -c evil", "is not a clone URL"),
    ("https://host/", "names no repository path"), ("https://host/x?access_token=1", "no query"),
    ("", "empty"), ("file://otherhost/x", "file:///ABSOLUTE/PATH"),
])
def test_unusable_clone_urls_are_refused_saying_what_works(url, says):
    with pytest.raises(InvalidCloneUrl, match=says):
        normalise_clone_url(url)


@pytest.fixture
def source(tmp_path) -> History:
    history = History(tmp_path / "real" / "repo")
    generate(history, 12, merge_every=5)
    return history


def test_no_user_or_inherited_git_configuration_can_redirect_a_clone(tmp_path, source):
    evil = History(tmp_path / "evil" / "repo")
    evil.commit("evil", Person("E", "e@evil"), dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    home = tmp_path / "home"
    home.mkdir()
    redirect = f'[url "file://{evil.path}"]\n\tinsteadOf = file://{source.path}\n'
    (home / ".gitconfig").write_text(redirect)
    (home / ".config" / "git").mkdir(parents=True)
    (home / ".config" / "git" / "config").write_text(redirect)
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "GIT_CONFIG_PARAMETERS": f"'url.file://{evil.path}.insteadof'='file://{source.path}'",
               "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.file://{evil.path}.insteadOf",
               "GIT_CONFIG_VALUE_0": f"file://{source.path}", "GIT_DIR": str(evil.path / ".git")}
    plain = subprocess.run(["git", "ls-remote", f"file://{source.path}", "HEAD"], env={"PATH": "/usr/bin:/bin",
                           "HOME": str(home)}, capture_output=True, text=True, check=True).stdout
    assert plain.split()[0] == evil.tip() != source.tip()  # an unfenced git would be redirected
    cache = MirrorCache(tmp_path / "mirrors", GitRunner(environ=environ))
    state = cache.update(normalise_clone_url(source.url), source.url)
    assert state.tip == source.tip() and state.branch == "main"
    env = GitRunner(environ=environ).environment()
    assert env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert env["GIT_CONFIG_GLOBAL"] == "/dev/null" and "GIT_DIR" not in env and "GIT_CONFIG_PARAMETERS" not in env
    assert env["GIT_SSH_COMMAND"] == "ssh -o BatchMode=yes" and "ext" not in env["GIT_ALLOW_PROTOCOL"]


def test_a_server_that_never_answers_is_stopped_by_the_timeout(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []
    def hold() -> None:
        try:
            while True:
                held.append(listener.accept())  # and never answer
        except OSError:
            pass

    threading.Thread(target=hold, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/kernel.git"
    cache = MirrorCache(tmp_path / "mirrors", clone_timeout=1.5, fetch_timeout=1.5)
    began = time.monotonic()
    with pytest.raises(GitTimeout, match="longer than 2 s"):
        cache.update(normalise_clone_url(url), url)
    assert time.monotonic() - began < 10
    assert not list((tmp_path / "mirrors").iterdir()) or all(p.name.startswith(".") and p.suffix == ".lock"
                                                             for p in (tmp_path / "mirrors").iterdir())
    listener.close()


def test_a_server_without_filters_gives_a_full_mirror(tmp_path, source):
    git(source.path, "config", "uploadpack.allowFilter", "false")
    cache = MirrorCache(tmp_path / "mirrors")
    state = cache.update(normalise_clone_url(source.url), source.url)
    assert state.tip == source.tip()
    assert git(state.path, "rev-list", "--count", "HEAD").strip() == str(len(expected_commits(source.path)))
    assert git(state.path, "cat-file", "-t", "HEAD:file1.txt").strip() == "blob"  # the contents came too


def test_the_log_parser_streams_whatever_the_chunk_boundaries(tmp_path, source):
    source.commit("tabs\tand\x1bescape\n\n body", Person("Ünïcødé 名字", "u@x"),
                  dt.datetime(1999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))))
    out = git(source.path, *log_args(source.tip())).encode()
    whole = list(parse_log(iter([out])))
    assert len(whole) == len(expected_commits(source.path))
    for size in (1, 7, 4096):
        assert list(parse_log(iter(out[i:i + size] for i in range(0, len(out), size)))) == whole
    truth = expected_commits(source.path)
    for sha, parents, an, ae, at, cn, ce, ct, title in whole:
        assert (an, ae, dt.datetime.fromtimestamp(at, dt.timezone.utc), parents > 1, title) == (
            truth[sha][0], truth[sha][1], truth[sha][2], truth[sha][6], truth[sha][7])
