"""Problems found in a model file, each naming the file, the key path, what is wrong and the fix.

``mtx config check`` prints these; ``load_model`` raises them together as one ``ModelError``.
"""

from __future__ import annotations

from pathlib import Path

from tracker.yamlsource import Problem as ConfigProblem


# one problem type for every configuration file: file, key path, message, fix, severity (and line where known)
Problem = ConfigProblem


class ModelError(Exception):
    """A model could not be found or loaded; ``problems`` says where and how to fix it."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))

    @classmethod
    def single(cls, file: str | Path, key: str, message: str, fix: str) -> "ModelError":
        return cls([Problem(str(file), key, message, fix)])
