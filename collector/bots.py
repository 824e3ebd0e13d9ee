"""Tell bot accounts from people, with patterns the configuration can replace.

Bots are kept (they are part of the history) but flagged so metrics can exclude them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_LOGIN_PATTERNS: tuple[str, ...] = ("*[bot]", "*-bot", "*bot", "*-ci", "ci-*")
DEFAULT_EMAIL_PATTERNS: tuple[str, ...] = ("*[bot]@users.noreply.github.com", "noreply@github.com",
                                           "*bot@*", "*-bot@*")
DEFAULT_NAME_PATTERNS: tuple[str, ...] = ("*[bot]",)


@dataclass(frozen=True)
class BotRules:
    """Case-insensitive patterns for logins, e-mails and git author names: ``*`` is any text, ``?`` one character,
    everything else literal (so ``*[bot]`` means the suffix ``[bot]``)."""

    logins: tuple[str, ...] = DEFAULT_LOGIN_PATTERNS
    emails: tuple[str, ...] = DEFAULT_EMAIL_PATTERNS
    names: tuple[str, ...] = DEFAULT_NAME_PATTERNS
    exact_logins: frozenset[str] = frozenset()  # named CI accounts, e.g. {"openharmony_ci"}

    def is_bot(self, login: str | None = None, email: str | None = None, name: str | None = None,
               account_type: str | None = None) -> bool:
        """True when the account type says Bot or any given identity matches a pattern."""
        if account_type and account_type.lower() == "bot":
            return True
        if login:
            lowered = login.lower()
            if lowered in {x.lower() for x in self.exact_logins} or _matches(lowered, self.logins):
                return True
        if email and _matches(email.lower(), self.emails):
            return True
        return bool(name) and _matches(name.lower(), self.names)


def _matches(value: str, patterns: tuple[str, ...]) -> bool:
    return any(_compile(p).fullmatch(value) for p in patterns)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    escaped = re.escape(pattern.lower())
    return re.compile(escaped.replace(r"\*", ".*").replace(r"\?", "."))


DEFAULT_BOT_RULES = BotRules()


def is_bot(login: str | None = None, email: str | None = None, name: str | None = None,
           account_type: str | None = None, rules: BotRules = DEFAULT_BOT_RULES) -> bool:
    return rules.is_bot(login, email, name, account_type)
