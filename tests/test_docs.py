"""Documentation that cannot drift from the `mtx` command (as sqlite-utils checks its CLI reference).

- Every command (and group) of `mtx` is named in the README or `docs/*.md` as ``mtx <command>`` (global options may
  stand between, as in ``mtx --as ent-a enterprises list``), and every option of every command appears there.
- Every ``mtx …`` line in a README code block parses with the command's own (Click) parser, without running it:
  an example with a renamed option, a removed command or a wrong argument count fails here.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from tracker.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")  # Typer's (vendored) Click
ROOT_COMMAND = typer.main.get_command(app)


def commands(group=ROOT_COMMAND, path: tuple[str, ...] = ()):
    """(path, command) for every command and group below the root, e.g. (('certs', 'import'), <Command>)."""
    for name, command in sorted(group.commands.items()):
        if command.hidden:
            continue
        yield path + (name,), command
        if hasattr(command, "commands"):
            yield from commands(command, path + (name,))


def doc_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOCS)


def readme_mtx_lines() -> list[tuple[int, str]]:
    """(line number, command line) of each `mtx …` line in a fenced code block of the README; comments, the `$ `
    prompt and leading VAR=value assignments removed, continuation lines joined."""
    found, inside, pending, start = [], False, "", 0
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            inside, pending = not inside, ""
            continue
        if not inside:
            continue
        text = line.strip()
        if pending:
            text, pending = pending + " " + text, ""
        elif text.startswith("$ "):
            text = text[2:]
            start = number
        else:
            start = number
        if text.endswith("\\"):
            pending = text[:-1]
            continue
        words = shlex.split(text, comments=True)
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            words = words[1:]
        if words and words[0] == "mtx":
            found.append((start, shlex.join(words)))
    return found


def parse(argv: list[str]) -> tuple[str, ...]:
    """Parse `mtx argv` as Click would before running it; returns the command path. Raises UsageError."""
    command, context, path = ROOT_COMMAND, ROOT_COMMAND.make_context("mtx", list(argv)), ()
    while hasattr(command, "commands"):
        rest = [*getattr(context, "_protected_args", getattr(context, "protected_args", [])), *context.args]
        if not rest:
            break
        name, command, rest = command.resolve_command(context, rest)
        context = command.make_context(name, rest, parent=context)
        path += (name,)
    return path


def test_every_command_is_named_in_the_docs():
    text = doc_text()
    missing = []
    for path, _ in commands():
        pattern = r"\bmtx(?:\s+--?[a-z][\w-]*(?:[ =](?!-)\S+)?)*\s+" + r"\s+".join(map(re.escape, path)) + r"\b"
        if not re.search(pattern, text):
            missing.append("mtx " + " ".join(path))
    assert not missing, f"commands not documented in README.md or docs/*.md: {', '.join(missing)}"


def test_every_option_is_named_in_the_docs():
    text = doc_text()
    missing = []
    for path, command in [((), ROOT_COMMAND), *commands()]:
        for param in command.params:
            if param.param_type_name != "option" or param.hidden:
                continue
            names = [name for name in param.opts + param.secondary_opts if name.startswith("--")]
            if names and not any(re.search(re.escape(name) + r"(?![\w-])", text) for name in names):
                missing.append(f"mtx {' '.join(path)} {names[0]}".replace("  ", " "))
    assert not missing, f"options not documented in README.md or docs/*.md: {', '.join(missing)}"


def test_the_readme_has_mtx_lines_to_check():
    lines = [text for _, text in readme_mtx_lines()]
    assert "mtx init" in lines and any(text.startswith("mtx certs import") for text in lines)


@pytest.mark.parametrize("number,line", readme_mtx_lines(), ids=lambda value: str(value)[:60])
def test_readme_mtx_line_parses(number, line):
    try:
        path = parse(shlex.split(line)[1:])
    except UsageError as exc:
        pytest.fail(f"README.md:{number}: `{line}` does not parse: {exc.format_message()}")
    assert path, f"README.md:{number}: `{line}` names no command"
    assert not hasattr(dict(commands())[path], "commands") or "--help" in line, \
        f"README.md:{number}: `{line}` stops at the group `mtx {' '.join(path)}`"


def test_a_bad_line_is_caught():
    with pytest.raises(UsageError):
        parse(["certs", "import", "a.xlsx", "--no-such-option"])
    with pytest.raises(UsageError):
        parse(["awards", "recompute", "|", "approve"])
    assert parse(["--as", "ent-a", "enterprises", "list", "--json"]) == ("enterprises", "list")
