"""Real git repositories built by the tests (git fast-import: chosen authors, dates and offsets, merges, tags), and
git's own answer about them, read with other placeholders and another parser than the collector's."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

UTC = dt.timezone.utc
GIT_ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, input=input, capture_output=True, check=False)
    if result.returncode:
        raise AssertionError(f"git {' '.join(args)}: {result.stderr.decode()}")
    return result.stdout.decode("utf-8")


def stamp(moment: dt.datetime) -> str:
    """fast-import's ``<epoch> <+hhmm>`` of an aware datetime, keeping its offset."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{int(moment.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


@dataclass
class Person:
    name: str
    email: str


class History:
    """A non-bare repository whose commits are written by fast-import; ``commit`` returns the new sha."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", branch)
        git(path, "config", "uploadpack.allowFilter", "true")
        self.branch = branch
        self.counter = 0

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    def commit(self, message: str, author: Person, when: dt.datetime, *, committer: Person | None = None,
               committed: dt.datetime | None = None, parents: list[str] | None = None, branch: str | None = None
               ) -> str:
        branch = branch or self.branch
        self.counter += 1
        committer = committer or author
        committed = committed or when
        data = message.encode("utf-8")
        lines = [f"commit refs/heads/{branch}", f"author {author.name} <{author.email}> {stamp(when)}",
                 f"committer {committer.name} <{committer.email}> {stamp(committed)}", f"data {len(data)}"]
        stream = "\n".join(lines).encode() + b"\n" + data + b"\n"
        if parents is None:
            head = self.tip(branch)
            parents = [head] if head else []
        if parents:
            stream += f"from {parents[0]}\n".encode()
            for other in parents[1:]:
                stream += f"merge {other}\n".encode()
        content = f"change {self.counter}\n".encode()
        stream += f"M 644 inline file{self.counter % 7}.txt\ndata {len(content)}\n".encode() + content + b"\n"
        git(self.path, "fast-import", "--quiet", "--force", input=stream)
        return self.tip(branch)

    def tip(self, branch: str | None = None) -> str | None:
        result = subprocess.run(["git", "rev-parse", "-q", "--verify", f"refs/heads/{branch or self.branch}"],
                                cwd=self.path, env=GIT_ENV, capture_output=True, text=True)
        return result.stdout.strip() or None

    def tag(self, name: str, target: str, *, tagger: Person | None = None, when: dt.datetime | None = None,
            message: str = "") -> None:
        if tagger is None:
            git(self.path, "update-ref", f"refs/tags/{name}", target)
            return
        data = message.encode()
        stream = (f"tag {name}\nfrom {target}\ntagger {tagger.name} <{tagger.email}> {stamp(when)}\n"
                  f"data {len(data)}\n").encode() + data + b"\n"
        git(self.path, "fast-import", "--quiet", input=stream)

    def reset(self, target: str, branch: str | None = None) -> None:
        """Move the branch (a force-push's effect on the server)."""
        git(self.path, "update-ref", f"refs/heads/{branch or self.branch}", target)

    def rename_branch(self, new: str) -> None:
        git(self.path, "branch", "-m", self.branch, new)
        git(self.path, "symbolic-ref", "HEAD", f"refs/heads/{new}")
        self.branch = new


def generate(history: History, count: int, *, seed: int = 0, merge_every: int = 0) -> list[str]:
    """``count`` commits of six people in four time zones, a merge of a side branch every ``merge_every``."""
    people = [Person(f"Person {i} 开发者", f"p{i}@example{i % 3}.cn") for i in range(6)]
    zones = [dt.timezone(dt.timedelta(hours=h, minutes=m)) for h, m in ((8, 0), (-5, 0), (5, 45), (0, 0))]
    start = dt.datetime(2023, 3, 1, tzinfo=UTC)
    shas = []
    for i in range(count):
        who = people[(i * 7 + seed) % 6]
        when = (start + dt.timedelta(hours=3 * i + seed)).astimezone(zones[i % 4])
        if merge_every and i and i % merge_every == 0:
            base = history.tip()
            side = history.commit(f"side work {i}", who, when - dt.timedelta(minutes=30), branch="side",
                                  parents=[shas[-2]] if len(shas) > 1 else [base])
            shas.append(side)
            shas.append(history.commit(f"Merge side {i}", who, when, parents=[base, side]))
        else:
            shas.append(history.commit(f"change {i}\n\ndetails of {i}", who, when))
    return shas


def fast_generate(path: Path, count: int, *, people: int = 50, branch: str = "main") -> None:
    """A repository of ``count`` linear commits in one fast-import stream (the benchmark's and the kill test's)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "--bare", "-b", branch) if path.suffix == ".git" else git(path, "init", "-q", "-b", branch)
    zones = ["+0800", "-0500", "+0545", "+0000"]
    chunks = []
    base = 1_600_000_000
    for i in range(1, count + 1):
        who = i % people
        message = f"change {i}: adjust module {i % 97}\n\nlonger description of change {i}\n".encode()
        chunks.append(
            f"commit refs/heads/{branch}\nmark :{i}\nauthor Dev {who} <dev{who}@corp{who % 5}.example> "
            f"{base + 600 * i} {zones[i % 4]}\ncommitter Dev {who} <dev{who}@corp{who % 5}.example> "
            f"{base + 600 * i + 60} {zones[(i + 1) % 4]}\ndata {len(message)}\n".encode() + message
            + (f"from :{i - 1}\n".encode() if i > 1 else b"")
            + f"M 644 inline f{i % 50}.txt\ndata {len(str(i)) + 1}\n{i}\n\n".encode())
        if i % 1000 == 0:
            chunks.append(f"reset refs/tags/v{i // 1000}\nfrom :{i}\n\n".encode())
    git(path, "fast-import", "--quiet", input=b"".join(chunks))


# -- git's own answer ------------------------------------------------------------------------------------------


def iso_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def expected_commits(repo: Path, ref: str = "HEAD") -> dict[str, tuple]:
    """sha -> (author name, e-mail, time, committer name, e-mail, time, merge, title) from ISO-8601 placeholders."""
    out = git(repo, "log", "--no-mailmap", "--format=%H%n%P%n%an%n%ae%n%aI%n%cn%n%ce%n%cI%n%s%n%x01", ref)
    found = {}
    for block in out.split("\x01\n"):
        lines = block.split("\n")
        if len(lines) < 9:
            continue
        sha, parents, an, ae, ai, cn, ce, ci, _subject = lines[:9]
        body = git(repo, "show", "-s", "--format=%B", sha) if "\n" in _subject else None
        found[sha] = (an, ae, iso_utc(ai), cn, ce, iso_utc(ci), len(parents.split()) > 1, body)
    for sha in found:  # the title: the raw message's first line (another call, another placeholder)
        raw = git(repo, "cat-file", "commit", sha).split("\n\n", 1)[1].strip()
        found[sha] = found[sha][:7] + (raw.splitlines()[0] if raw else "",)
    return found


def expected_tags(repo: Path) -> dict[str, dt.datetime]:
    """tag -> creator date (the tagger's for an annotated tag, the commit's committer date for a lightweight one)."""
    out = git(repo, "for-each-ref", "--format=%(refname:short) %(creatordate:iso-strict)", "refs/tags")
    return {name: iso_utc(date) for name, date in (line.split(" ", 1) for line in out.splitlines())}
