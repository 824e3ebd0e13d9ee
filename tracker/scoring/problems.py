"""Problems found in a model file, each naming the file, the key path, what is wrong and the fix.

``mtx config check`` prints these; ``load_model`` raises them together as one ``ModelError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a model file (``key`` is a dotted path such as ``groups.activity.signals.org_count.weight``)."""

    file: str
    key: str
    message: str
    fix: str
    severity: str = "error"  # "error" stops the model loading; "warning" does not

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message} (fix: {self.fix})"


class ModelError(Exception):
    """A model could not be found or loaded; ``problems`` says where and how to fix it."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))

    @classmethod
    def single(cls, file: str | Path, key: str, message: str, fix: str) -> "ModelError":
        return cls([Problem(str(file), key, message, fix)])
