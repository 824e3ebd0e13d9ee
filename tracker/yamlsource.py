"""Configuration files as YAML sources: parsing with alias-bomb limits, the line of every key, and the problems found.

Every configuration reader (tracker.config, the award rule sets in tracker.ledger.schema, the scoring models) reports
through `Problem`; this module imports nothing of the tracker, so each of them can use it without an import cycle.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


# --- problems ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    message: str
    fix: str
    severity: Literal["error", "warning"] = "error"
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message} (fix: {self.fix})"

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        label = "错误 error" if self.severity == "error" else "警告 warning"
        return f"{where}: {label} at {self.key or '(top level)'}: {self.message}\n    fix: {self.fix}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "key": self.key, "severity": self.severity,
                "message": self.message, "fix": self.fix}


class ConfigError(Exception):
    """Raised by load_config when any error-level problem exists; carries all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} configuration error(s):\n" + "\n".join(p.render() for p in errors))


# --- schema base ------------------------------------------------------------------------------------------------------


class Strict(BaseModel):
    """The base of every configuration schema: unknown keys are errors, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- YAML with line numbers -------------------------------------------------------------------------------------------
YAML_MAX_NODES = 200_000  # nodes once aliases are expanded: far above any real configuration, far below a YAML bomb


class YamlTooLarge(ValueError):
    """A YAML document whose aliases expand past YAML_MAX_NODES, or refer to themselves (a 'billion laughs' file)."""


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes in the document with every alias expanded, counting each distinct node once (linear time)."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise YamlTooLarge("别名引用了自身 / an alias refers to itself (a recursive anchor)")
        in_progress.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        in_progress.discard(key)
        sizes[key] = total = min(total, limit + 1)  # enough to know it is over; keeps the numbers small
        return total

    return size(root)


def load_yaml(text: str, max_nodes: int = YAML_MAX_NODES) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document with the safe loader, refusing alias bombs before anything walks the data.

    Returns the data and the composed node tree (for line numbers). Raises yaml.YAMLError or YamlTooLarge.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        try:
            expanded = _expanded_size(root, max_nodes)
        except RecursionError:
            raise YamlTooLarge("嵌套过深 / the YAML is nested too deeply") from None
        if expanded > max_nodes:
            raise YamlTooLarge(f"YAML 展开别名后超过 {max_nodes:,} 个节点 / the YAML expands to more than "
                               f"{max_nodes:,} nodes once its aliases (*name) are expanded")
        return loader.construct_document(root), root
    finally:
        loader.dispose()


def _line_index(root: yaml.Node | None) -> dict[tuple, int]:
    """Key path (tuple of keys and list indexes) -> 1-based line, from the composed YAML node tree.

    Each node is walked once: a node reached again through an alias gets its path's line, not a second walk.
    """
    index: dict[tuple, int] = {}
    seen: set[int] = set()

    def walk(node, path: tuple) -> None:
        index[path] = node.start_mark.line + 1
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                index[path + (key,)] = key_node.start_mark.line + 1
                walk(value_node, path + (key,))
                index[path + (key,)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,))

    if root is not None:
        walk(root, ())
    return index


def _line_for(index: dict[tuple, int], path: tuple) -> int | None:
    path = tuple(path)
    while path:
        if path in index:
            return index[path]
        path = path[:-1]
    return index.get(())


def key_text(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class YamlSource:
    """One parsed file: its data and the line of each key path, so a problem can name the line."""

    name: str  # as shown to the user, e.g. config/communities.yaml
    data: Any
    lines: dict[tuple, int]

    def problem(self, path: tuple, message: str, fix: str, severity: str = "error") -> Problem:
        return Problem(self.name, key_text(path), message, fix, severity, _line_for(self.lines, path))  # type: ignore[arg-type]


def read_yaml(directory: Path, relative: str, problems: list[Problem], required: bool) -> YamlSource | None:
    """`directory/relative` parsed, or None with the problem added (missing when required, bad YAML, alias bomb)."""
    path = directory / relative
    shown = str(path)
    if not path.exists():
        if required:
            problems.append(Problem(shown, "", "file not found",
                                    f"create {relative} in the configuration directory (see config/ in the project)"))
        return None
    text = path.read_text(encoding="utf-8")
    try:
        data, root = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(shown, "", f"not valid YAML: {getattr(exc, 'problem', exc)}",
                                "fix the YAML syntax at that line (indentation, a missing ':' or quote)",
                                line=mark.line + 1 if mark else None))
        return None
    except YamlTooLarge as exc:
        problems.append(Problem(shown, "", f"文件被拒绝 / file refused: {exc}",
                                "write the entries out instead of anchors (&name) and aliases (*name) that expand into "
                                "each other"))
        return None
    return YamlSource(shown, data if data is not None else {}, _line_index(root))


def _fix_for(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "remove this key or correct its spelling"
    if kind == "missing":
        return "add this key"
    if kind == "literal_error":
        return f"use one of: {error.get('ctx', {}).get('expected', '')}"
    if kind.startswith("date"):
        return "write the date as YYYY-MM-DD"
    if kind.startswith("int") or kind.startswith("float"):
        return "write a number"
    if kind.startswith("bool"):
        return "write true or false"
    return "correct the value as described"


def validate_source(source: YamlSource, model: type[BaseModel], problems: list[Problem], data: Any = None,
                    prefix: tuple = ()):
    """`model` validated from the source (or `data` found at `prefix` in it); None with every error added."""
    try:
        return model.model_validate(source.data if data is None else data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            # pydantic adds the union member tag (e.g. 'str' / 'RepositoryRef') to the location: keep the data path
            # (a model with a model validator is tagged 'function-after[..., RepositoryRef]')
            clean = tuple(p for p in loc if not (isinstance(p, str) and (p in ("str",) or p[:1].isupper()
                                                                         or p.startswith("function-"))))
            problems.append(source.problem(prefix + clean, error["msg"], _fix_for(error)))
        return None
