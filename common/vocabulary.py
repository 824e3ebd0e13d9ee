"""A vocabulary: the values a column or option may take, each with its Chinese and English label, defined once.

`tracker.vocab` holds every vocabulary of the application; the ones the collector needs too (streams, repository
states, issue and pull-request states) are defined here, because the collector must not import `tracker`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator


@dataclass(frozen=True)
class Term:
    """One value: what is stored, what a Chinese reader sees, what an English reader sees.

    `aliases` are other spellings accepted on input (a spreadsheet's 正常 for valid); `flags` name the properties
    the value has (an award status that "counts" against the ceiling).
    """

    value: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def bilingual(self) -> str:
        return f"{self.zh} {self.en}" if self.zh != self.en else self.zh


class Vocabulary:
    """The ordered terms of one vocabulary. `values` is what CHECK constraints and option lists are built from.

    `shown` terms are labels for values that are displayed but never stored (the balance's "not computed yet").
    """

    def __init__(self, name: str, *terms: Term, shown: tuple[Term, ...] = ()) -> None:
        values = [t.value for t in terms]
        if len(set(values)) != len(values):
            raise ValueError(f"vocabulary {name}: a value is defined twice")
        self.name = name
        self.terms = terms
        self.values: tuple[str, ...] = tuple(values)
        self._by_value = {t.value: t for t in (*terms, *shown)}

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __contains__(self, value: object) -> bool:
        return value in self.values

    def __len__(self) -> int:
        return len(self.terms)

    def __repr__(self) -> str:
        return f"Vocabulary({self.name!r}, {', '.join(self.values)})"

    def term(self, value: str) -> Term:
        try:
            return self._by_value[value]
        except KeyError:
            raise ValueError(f"unknown {self.name} {value!r}; expected one of {', '.join(self.values)}") from None

    def zh(self, value: str | None) -> str:
        """The Chinese label; an unknown value is shown as it is (a display never fails on old data)."""
        term = self._by_value.get(value)  # type: ignore[arg-type]
        return term.zh if term else ("—" if value is None else str(value))

    def en(self, value: str | None) -> str:
        term = self._by_value.get(value)  # type: ignore[arg-type]
        return term.en if term else ("—" if value is None else str(value))

    def labels(self) -> dict[str, str]:
        """value -> Chinese label, in order."""
        return {t.value: t.zh for t in self.terms}

    def with_flag(self, flag: str) -> tuple[str, ...]:
        """The values that have `flag`, in vocabulary order."""
        return tuple(t.value for t in self.terms if flag in t.flags)

    def parse(self, text: str) -> str | None:
        """The value a user's text names: the value itself, its Chinese or English label, or an alias."""
        text = text.strip()
        for t in self.terms:
            if text in (t.value, t.zh, t.en, *t.aliases) or text.lower() in (t.value.lower(), t.en.lower()):
                return t.value
        return None


# --- what the collector collects --------------------------------------------------------------------------------------

STREAMS = Vocabulary(
    "stream",
    Term("repo", "仓库信息", "repository"),
    Term("commits", "提交", "commits"),
    Term("releases", "版本发布", "releases"),
    Term("contributors", "贡献者", "contributors"),
    Term("issues", "Issue", "issues"),
    Term("pulls", "Pull/Merge Request", "pull/merge requests"),
)
"""Every collector offers these streams; ``repo`` first, since it is cheap and says whether the rest make sense."""

REPO_STATES = Vocabulary(
    "repository state",
    Term("active", "活跃", "active"),
    Term("archived", "已归档", "archived"),
    Term("empty", "空仓库", "empty"),
    Term("moved", "已迁移", "moved"),
    Term("gone", "已消失", "gone"),
)

ISSUE_STATES = Vocabulary(
    "issue state",
    Term("open", "开启", "open"),
    Term("closed", "已关闭", "closed"),
)

PULL_STATES = Vocabulary(
    "pull request state",
    Term("open", "开启", "open"),
    Term("closed", "已关闭", "closed"),
    Term("merged", "已合并", "merged"),
)
