"""Git without an API: clone URLs, a cache of bare partial mirrors, every git call fenced in, and the log parser.

Nothing here knows the database. :mod:`collector.git` builds the collector on top.

- **URLs** (:func:`normalise_clone_url`): ``https://``, ``http://``, ``ssh://``, ``git://``, ``git@host:path`` and
  ``file:///path``. The natural key is the URL without credentials, without a trailing ``.git`` or ``/``, with the
  scheme and host lower-cased; an ssh user name (``git@``) is kept (it is not a secret), a password never.
- **Mirrors** (:class:`MirrorCache`): one bare repository per normalised URL under the cache directory. The first
  time ``git clone --bare --filter=blob:none`` (commits and trees only; where the server ignores filters git clones
  in full, and where it refuses them we clone again without), into a temporary directory renamed into place once
  complete, so a clone killed half-way never looks like a mirror. Later ``git fetch --prune`` with explicit refspecs
  ``+refs/heads/*:refs/heads/*`` and ``+refs/tags/*:refs/tags/*`` (a ``--mirror`` clone would also copy GitHub's
  ``refs/pull/*`` and GitLab's ``refs/merge-requests/*``: every pull request's commits). ``HEAD`` follows the
  server's default branch (``git ls-remote --symref``), so a renamed default branch is followed. A mirror without
  its marker file, that git does not recognise, or whose fetch reports local corruption is cloned again; stale
  ``*.lock`` files of a killed fetch are removed first (the cache is locked per mirror, thread and process).
- **Fences** (:class:`GitRunner`): ``GIT_TERMINAL_PROMPT=0``, ssh in batch mode, no system or user git
  configuration (``GIT_CONFIG_NOSYSTEM``, ``GIT_CONFIG_GLOBAL=/dev/null``: no ``insteadOf`` can redirect a URL),
  every inherited ``GIT_*`` variable dropped but the operator's ssh settings, protocols limited to https, http,
  ssh, git and file (no ``ext::``), hooks off, no automatic gc, and a timeout (the whole process group is killed).
- **Credentials** (:class:`Credential`): a token goes to one origin (scheme, host, port) only, through a credential
  helper configured by ``GIT_CONFIG_COUNT`` environment variables; the helper (``collector/git_credential.py``)
  reads the secret from its environment and answers only for that origin, so neither the command line (``ps``),
  the mirror's config, a URL we store nor a log line ever holds it. Plain http carries a token only to a loopback
  host. ssh uses the operator's agent and keys.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from collector.errors import CollectorError
from common.redaction import redact_text

UTC = dt.timezone.utc
CLONE_TIMEOUT = 1800.0
FETCH_TIMEOUT = 600.0
LOCAL_TIMEOUT = 600.0  # git log, for-each-ref: no network, but never unbounded either
MARKER = "mtx-mirror"
REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
ALLOWED_PROTOCOLS = "https:http:ssh:git:file"
_KEEP_GIT_VARIABLES = {"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT"}  # the operator's ssh setup
_SCP_LIKE = re.compile(r"^(?P<user>[A-Za-z0-9._~-]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>(?!//)[^\s]+)$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_CORRUPT = re.compile(r"(?i)not a git repository|bad object|corrupt|missing (?:blob|tree|commit) object|"
                      r"unable to read|did not send all necessary objects|packfile .* cannot be accessed|"
                      r"bad (?:config|ref|HEAD)|invalid (?:gitfile|object)")


class GitError(CollectorError):
    """A git command failed (its redacted stderr says why) or timed out."""


class GitTimeout(GitError):
    pass


class InvalidCloneUrl(ValueError):
    """A clone URL we cannot use; the message says what a usable one looks like."""


# -- URLs ----------------------------------------------------------------------------------------------------


CLONE_URL_FORMS = "https://HOST/PATH, ssh://[USER@]HOST/PATH, USER@HOST:PATH, git://HOST/PATH or file:///PATH"


def normalise_clone_url(url: str) -> str:
    """The natural key of a clone URL: no credentials, no trailing ``.git`` or ``/``, scheme and host lower-case.

    Raises :class:`InvalidCloneUrl` naming the accepted forms."""
    text = (url or "").strip()
    if not text:
        raise InvalidCloneUrl(f"the clone URL is empty; write one of {CLONE_URL_FORMS}")
    if "://" not in text:
        match = _SCP_LIKE.match(text)
        if not match:
            raise InvalidCloneUrl(f"{redact_text(text)!r} is not a clone URL; write one of {CLONE_URL_FORMS}")
        path = _strip_suffix(match.group("path"))
        if not path:
            raise InvalidCloneUrl(f"{redact_text(text)!r} names no repository path")
        return f"{match.group('user') or ''}{match.group('host').lower()}:{path}"
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidCloneUrl(f"{redact_text(text)!r} is not a valid URL; write one of {CLONE_URL_FORMS}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http", "ssh", "git", "file"):
        raise InvalidCloneUrl(f"scheme {scheme!r} is not allowed for a clone URL; write one of {CLONE_URL_FORMS}")
    if parts.query or parts.fragment:
        raise InvalidCloneUrl(f"{redact_text(text)!r}: a clone URL has no query or fragment")
    path = _strip_suffix(parts.path)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise InvalidCloneUrl(f"{text!r}: a file URL is file:///ABSOLUTE/PATH")
        if not path:
            raise InvalidCloneUrl(f"{text!r} names no directory")
        return f"file://{path}"
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidCloneUrl(f"{redact_text(text)!r} names no host; write one of {CLONE_URL_FORMS}")
    if ":" in host:
        host = f"[{host}]"
    user = ""
    if scheme == "ssh" and parts.username:
        user = urllib.parse.quote(urllib.parse.unquote(parts.username), safe="") + "@"  # an ssh login, no password
    netloc = f"{user}{host}" + (f":{port}" if port else "")
    if not path.strip("/"):
        raise InvalidCloneUrl(f"{redact_text(text)!r} names no repository path")
    return f"{scheme}://{netloc}{path}"


def _strip_suffix(path: str) -> str:
    path = path.rstrip("/")
    if path.endswith(".git"):
        path = path[:-4].rstrip("/")
    return path


def clone_url_without_credentials(url: str) -> str:
    """The URL as written, with any ``user:password@`` removed (an ssh user name stays): what git is given."""
    text = url.strip()
    if "://" not in text:
        return text
    parts = urllib.parse.urlsplit(text)
    if "@" not in parts.netloc:
        return text
    host = parts.netloc.rpartition("@")[2]
    if parts.scheme.lower() == "ssh" and parts.username:
        host = urllib.parse.quote(urllib.parse.unquote(parts.username), safe="") + "@" + host
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def url_origin(url: str) -> str | None:
    """``scheme://host:port`` of an http(s) clone URL (the unit a token is scoped to); None for ssh, git, file."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{scheme}://{parts.hostname.lower()}:{port or (443 if scheme == 'https' else 80)}"


def credentials_allowed(origin: str) -> str | None:
    """Why a token may not be sent to ``origin``; None when it may (https, or plain http to a loopback host)."""
    parts = urllib.parse.urlsplit(origin)
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK:
        return None
    return f"a token is never sent over plain http ({origin}); use an https clone URL"


# -- running git -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    """A token for one origin: the helper gives ``username``/``secret`` to that origin and to nothing else."""

    origin: str            # scheme://host:port
    username: str
    secret: str = field(repr=False)
    env_var: str = ""      # where it came from (named in messages, never the value)

    def __post_init__(self) -> None:
        problem = credentials_allowed(self.origin)
        if problem:
            raise ValueError(problem)


_HELPER = Path(__file__).with_name("git_credential.py")


class GitRunner:
    """Runs git with the fences of this module. ``binary`` is the git executable; ``environ`` the base environment
    (the process's, by default), from which inherited git settings and ``secret_variables`` are dropped."""

    def __init__(self, binary: str = "git", environ: dict[str, str] | None = None,
                 secret_variables: Sequence[str] = ()) -> None:
        self.binary = shutil.which(binary) or binary
        base = dict(os.environ if environ is None else environ)
        secret = set(secret_variables)
        self._env = {k: v for k, v in base.items()
                     if (not k.startswith("GIT_") or k in _KEEP_GIT_VARIABLES) and k not in secret
                     and not k.startswith("MTX_GIT_CREDENTIAL")}
        self._env.update({
            "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS, "GIT_ASKPASS": "", "SSH_ASKPASS": "", "LC_ALL": "C",
            "GIT_OPTIONAL_LOCKS": "0", "GIT_NO_REPLACE_OBJECTS": "1",
        })
        self._env.pop("SSH_ASKPASS_REQUIRE", None)
        if "GIT_SSH" not in self._env and "GIT_SSH_COMMAND" not in self._env:
            self._env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"

    def environment(self, credential: Credential | None = None) -> dict[str, str]:
        env = dict(self._env)
        settings = [("core.hooksPath", os.devnull), ("gc.auto", "0"), ("maintenance.auto", "false"),
                    ("core.fsmonitor", "false"), ("credential.helper", ""), ("protocol.ext.allow", "never"),
                    ("advice.detachedHead", "false"), ("log.showSignature", "false"), ("log.mailmap", "false"),
                    ("fetch.recurseSubmodules", "false"), ("transfer.credentialsInUrl", "die")]
        if credential is not None:
            helper = f"!{_quote(sys.executable)} {_quote(str(_HELPER))}"
            settings.append((f"credential.{_config_url(credential.origin)}.helper", helper))
            env.update({"MTX_GIT_CREDENTIAL_ORIGIN": credential.origin, "MTX_GIT_CREDENTIAL_USER": credential.username,
                        "MTX_GIT_CREDENTIAL_SECRET": credential.secret})
        env["GIT_CONFIG_COUNT"] = str(len(settings))
        for index, (key, value) in enumerate(settings):
            env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
        return env

    def run(self, args: Sequence[str], *, cwd: str | Path | None = None, timeout: float = LOCAL_TIMEOUT,
            credential: Credential | None = None, what: str = "") -> subprocess.CompletedProcess:
        """Run ``git ARGS``; raises :class:`GitError` (redacted stderr) on failure, :class:`GitTimeout` on time."""
        proc = subprocess.Popen([self.binary, *args], cwd=cwd, env=self.environment(credential),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            raise GitTimeout(f"git {what or args[0]} took longer than {timeout:.0f} s and was stopped "
                             "(collection.git_timeout_seconds)") from None
        except BaseException:
            _kill_group(proc)
            raise
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        return result

    def check(self, args: Sequence[str], **kwargs) -> bytes:
        result = self.run(args, **kwargs)
        if result.returncode != 0:
            raise GitError(f"git {kwargs.get('what') or args[0]} failed: {describe(result.stderr)}")
        return result.stdout

    def stream(self, args: Sequence[str], *, cwd: str | Path, timeout: float = LOCAL_TIMEOUT,
               what: str = "") -> Iterator[bytes]:
        """``git ARGS``'s standard output in chunks, the process killed after ``timeout`` or when the reader stops."""
        proc = subprocess.Popen([self.binary, *args], cwd=cwd, env=self.environment(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                bufsize=0)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _kill_group(proc)

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
        errors: list[bytes] = []
        drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        drain.start()
        finished = False
        try:
            read = proc.stdout.read
            while True:
                chunk = read(1 << 20)
                if not chunk:
                    break
                yield chunk
            finished = True
        finally:
            timer.cancel()
            if not finished:
                _kill_group(proc)
            proc.stdout.close()
            code = proc.wait()
            drain.join(5)
        if expired.is_set():
            raise GitTimeout(f"git {what or args[0]} took longer than {timeout:.0f} s and was stopped")
        if code != 0:
            raise GitError(f"git {what or args[0]} failed: {describe(b''.join(errors))}")


def _config_url(origin: str) -> str:
    """``https://host`` for the default port (as git matches ``credential.<url>.*``), else ``scheme://host:port``."""
    base, _, port = origin.rpartition(":")
    default = "443" if base.startswith("https:") else "80"
    return base if port == default else origin


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def describe(stderr: bytes) -> str:
    """git's error output as one redacted line (the last meaningful lines; progress lines dropped)."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").replace("\r", "\n").splitlines()]
    lines = [line for line in lines if line and not line.startswith(("remote: Counting", "remote: Compressing",
                                                                      "Receiving objects", "Resolving deltas"))]
    return redact_text(" | ".join(lines[-4:]) or "no error output")[:1000]


# -- mirrors -----------------------------------------------------------------------------------------------------


def mirror_name(key: str) -> str:
    """The directory of a mirror: the last path segment (readable) and a hash of the whole key (unique)."""
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", key.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])[:60] or "repo"
    return f"{tail}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.git"


@dataclass
class MirrorState:
    """What an update found: where the mirror is, its default branch and tip (None when the repository is empty),
    and whether it was (re)cloned."""

    path: Path
    branch: str | None
    tip: str | None
    cloned: bool
    filtered: bool


_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


class MirrorCache:
    """Bare partial mirrors under ``directory`` (created on first use)."""

    def __init__(self, directory: str | Path, runner: GitRunner | None = None, *,
                 clone_timeout: float = CLONE_TIMEOUT, fetch_timeout: float = FETCH_TIMEOUT) -> None:
        self.directory = Path(directory)
        self.runner = runner or GitRunner()
        self.clone_timeout, self.fetch_timeout = clone_timeout, fetch_timeout

    def path_for(self, key: str) -> Path:
        return self.directory / mirror_name(key)

    def lock(self, key: str) -> "_MirrorLock":
        return _MirrorLock(self.directory, mirror_name(key))

    def update(self, key: str, url: str, credential: Credential | None = None) -> MirrorState:
        """Clone or fetch the mirror of ``key`` from ``url`` (credential-free), and point HEAD at the server's
        default branch. Raises :class:`GitError` when the server cannot be reached or refuses."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(key)
        with self.lock(key):
            self._sweep(path)
            if self._usable(path, key):
                clear_stale_locks(path)
                result = self.runner.run(["fetch", "--prune", "--quiet", "origin", *REFSPECS], cwd=path,
                                         timeout=self.fetch_timeout, credential=credential, what="fetch")
                if result.returncode == 0:
                    self._follow_head(path, credential)
                    return MirrorState(path, *self._head(path), cloned=False, filtered=self._filtered(path))
                if not _CORRUPT.search(result.stderr.decode("utf-8", "replace")):
                    raise GitError(f"git fetch failed: {describe(result.stderr)}")
            filtered = self._clone(path, key, url, credential)
            return MirrorState(path, *self._head(path), cloned=True, filtered=filtered)

    # -- pieces ----------------------------------------------------------------------------------------------------
    def _clone(self, path: Path, key: str, url: str, credential: Credential | None) -> bool:
        temporary = self.directory / f".partial-{path.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            args = ["clone", "--bare", "--quiet", "--no-tags", "--filter=blob:none", "--", url, str(temporary)]
            result = self.runner.run(args, timeout=self.clone_timeout, credential=credential, what="clone")
            filtered = True
            if result.returncode != 0 and re.search(r"(?i)filter", result.stderr.decode("utf-8", "replace")):
                shutil.rmtree(temporary, ignore_errors=True)  # the server refuses filters: a full mirror then
                args.remove("--filter=blob:none")
                result = self.runner.run(args, timeout=self.clone_timeout, credential=credential, what="clone")
                filtered = False
            if result.returncode != 0:
                raise GitError(f"git clone failed: {describe(result.stderr)}")
            # the clone took the branches; tags (and pruning) come with the first fetch of both refspecs
            self.runner.check(["fetch", "--prune", "--quiet", "origin", *REFSPECS], cwd=temporary,
                              timeout=self.fetch_timeout, credential=credential, what="fetch")
            (temporary / MARKER).write_text(key + "\n", encoding="utf-8")
            if path.exists() or path.is_symlink():
                trash = self.directory / f".trash-{path.name}-{uuid.uuid4().hex[:8]}"
                os.replace(path, trash)
                shutil.rmtree(trash, ignore_errors=True)
            os.replace(temporary, path)
            return filtered and self._filtered(path)
        finally:
            if temporary.exists():
                shutil.rmtree(temporary, ignore_errors=True)

    def _sweep(self, path: Path) -> None:
        """Remove what killed clones of this mirror left behind (the cache lock is held: none is running)."""
        for leftover in self.directory.glob(f".partial-{path.name}-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.directory.glob(f".trash-{path.name}-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def _usable(self, path: Path, key: str) -> bool:
        """A complete mirror of ``key``: our marker, HEAD and objects present, and git agrees it is bare."""
        try:
            if (path / MARKER).read_text(encoding="utf-8").strip() != key:
                return False
        except OSError:
            return False
        if not (path / "HEAD").is_file() or not (path / "objects").is_dir():
            return False
        result = self.runner.run(["rev-parse", "--is-bare-repository"], cwd=path, what="rev-parse")
        return result.returncode == 0 and result.stdout.strip() == b"true"

    def _filtered(self, path: Path) -> bool:
        result = self.runner.run(["config", "--get", "remote.origin.partialclonefilter"], cwd=path, what="config")
        return result.returncode == 0 and bool(result.stdout.strip())

    def _follow_head(self, path: Path, credential: Credential | None) -> None:
        """HEAD = the server's default branch now (a renamed default branch is followed); when the server does not
        say, keep HEAD if its branch still exists, else main, master or the only branch."""
        result = self.runner.run(["ls-remote", "--symref", "origin", "HEAD"], cwd=path, timeout=self.fetch_timeout,
                                 credential=credential, what="ls-remote")
        target = None
        if result.returncode == 0:
            match = re.search(rb"^ref: (refs/heads/\S+)\tHEAD$", result.stdout, re.M)
            target = match.group(1).decode() if match else None
        if target and self._has_ref(path, target):
            self.runner.check(["symbolic-ref", "HEAD", target], cwd=path, what="symbolic-ref")
            return
        current = self.runner.run(["symbolic-ref", "-q", "HEAD"], cwd=path, what="symbolic-ref")
        head = current.stdout.decode().strip()
        if head and self._has_ref(path, head):
            return
        branches = self.runner.check(["for-each-ref", "--format=%(refname)", "refs/heads"], cwd=path,
                                     what="for-each-ref").decode().split()
        for choice in ("refs/heads/main", "refs/heads/master"):
            if choice in branches:
                self.runner.check(["symbolic-ref", "HEAD", choice], cwd=path, what="symbolic-ref")
                return
        if len(branches) == 1:
            self.runner.check(["symbolic-ref", "HEAD", branches[0]], cwd=path, what="symbolic-ref")

    def _has_ref(self, path: Path, ref: str) -> bool:
        return self.runner.run(["show-ref", "--verify", "--quiet", ref], cwd=path, what="show-ref").returncode == 0

    def _head(self, path: Path) -> tuple[str | None, str | None]:
        branch = self.runner.run(["symbolic-ref", "-q", "--short", "HEAD"], cwd=path, what="symbolic-ref")
        tip = self.runner.run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=path, what="rev-parse")
        return (branch.stdout.decode().strip() or None,
                tip.stdout.decode().strip() or None if tip.returncode == 0 else None)


def clear_stale_locks(path: Path) -> int:
    """Delete ``*.lock`` files a killed git left in a mirror (call only while holding the mirror's lock)."""
    removed = 0
    for pattern in ("*.lock", "refs/**/*.lock", "logs/**/*.lock"):
        for lock in path.glob(pattern):
            try:
                lock.unlink()
                removed += 1
            except OSError:
                pass
    return removed


class _MirrorLock:
    """One mirror at a time: a thread lock (threads of one run) and an flock (other processes: the benchmark)."""

    def __init__(self, directory: Path, name: str) -> None:
        self.file = directory / f".{name}.lock"
        with _thread_locks_guard:
            self.thread_lock = _thread_locks.setdefault(str(self.file), threading.Lock())
        self.handle = None

    def __enter__(self) -> "_MirrorLock":
        self.thread_lock.acquire()
        try:
            self.handle = open(self.file, "a")
            fcntl.flock(self.handle, fcntl.LOCK_EX)
        except BaseException:
            self.thread_lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
        finally:
            self.thread_lock.release()


# -- reading history -------------------------------------------------------------------------------------------

LOG_FORMAT = "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%cn%x1f%ce%x1f%ct%x1f%B"
LOG_OPTIONS = ("log", "-z", "--no-color", "--no-mailmap", "--no-show-signature", "--encoding=UTF-8", LOG_FORMAT)


@dataclass(frozen=True, slots=True)
class LogEntry:
    sha: str
    parents: int
    author_name: str
    author_email: str
    author_time: int
    committer_name: str
    committer_email: str
    committer_time: int
    title: str


def message_title(message: str) -> str:
    """The first line of a commit message, as the API collectors take it (stripped message, first line)."""
    message = message.strip()
    return message.splitlines()[0] if message else ""


def parse_log(chunks: Iterator[bytes]) -> Iterator[tuple]:
    """Raw ``git log -z`` output (:data:`LOG_FORMAT`) to tuples ``(sha, parents, an, ae, at, cn, ce, ct, title)``,
    streaming: memory stays one chunk plus one record whatever the history's length."""
    rest = b""
    for chunk in chunks:
        records = (rest + chunk).split(b"\0")
        rest = records.pop()
        for record in records:
            if record:
                yield _fields(record)
    if rest.strip(b"\n"):
        yield _fields(rest)


def _fields(record: bytes) -> tuple:
    sha, parents, an, ae, at, cn, ce, ct, body = record.decode("utf-8", "replace").lstrip("\n").split("\x1f", 8)
    title = body.strip()
    if "\n" in title or "\r" in title or not title.isprintable():
        title = message_title(title)
    return sha, parents.count(" ") + 1 if parents else 0, an, ae, int(at), cn, ce, int(ct), title


def log_args(tip: str, base: str | None = None, skip: int = 0) -> list[str]:
    args = list(LOG_OPTIONS)
    if skip:
        args.append(f"--skip={skip}")
    args.append(tip)
    if base:
        args.append(f"^{base}")
    args.append("--")
    return args


def tags(runner: GitRunner, path: Path) -> list[tuple[str, str, int | None, str | None]]:
    """Every tag as ``(name, kind, unix time, annotation subject)``: an annotated tag has its tagger date (else
    its commit's), a lightweight tag its commit's committer date; kind is ``annotated`` or ``lightweight``."""
    out = runner.check(["for-each-ref", "--format=%(refname:strip=2)%1f%(objecttype)%1f%(taggerdate:unix)%1f"
                        "%(*committerdate:unix)%1f%(committerdate:unix)%1f%(contents:subject)%00", "refs/tags"],
                       cwd=path, what="for-each-ref")
    found = []
    for record in out.decode("utf-8", "replace").split("\0"):
        record = record.lstrip("\n")
        if not record:
            continue
        name, kind, tagged, peeled, committed, subject = record.split("\x1f", 5)
        if kind == "tag":
            when = tagged or peeled
            found.append((name, "annotated", int(when) if when else None, subject.strip() or None))
        else:
            found.append((name, "lightweight", int(committed) if committed else None, None))
    return found


def is_ancestor(runner: GitRunner, path: Path, old: str, new: str) -> bool | None:
    """Whether ``old`` is an ancestor of (or equal to) ``new``; None when ``old`` is no longer in the mirror."""
    if runner.run(["cat-file", "-e", f"{old}^{{commit}}"], cwd=path, what="cat-file").returncode != 0:
        return None
    result = runner.run(["merge-base", "--is-ancestor", old, new], cwd=path, what="merge-base")
    if result.returncode not in (0, 1):
        raise GitError(f"git merge-base failed: {describe(result.stderr)}")
    return result.returncode == 0


def epoch(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


def default_cache_directory(database_url: str | None) -> Path:
    """Beside a SQLite database (``<db>.git-mirrors``); for PostgreSQL the user's cache (``~/.cache/mtx/git``)."""
    if database_url and database_url.startswith("sqlite:///"):
        file = database_url[len("sqlite:///"):]
        if file and file != ":memory:":
            return Path(file + ".git-mirrors")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mtx" / "git"


__all__ = ["CLONE_TIMEOUT", "Credential", "FETCH_TIMEOUT", "GitError", "GitRunner", "GitTimeout", "InvalidCloneUrl",
           "MirrorCache", "MirrorState", "clone_url_without_credentials", "credentials_allowed",
           "default_cache_directory", "epoch", "is_ancestor", "log_args", "mirror_name", "normalise_clone_url",
           "parse_log", "tags", "url_origin"]
