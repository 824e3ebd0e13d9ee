"""Texts in Chinese and English as separate fields, so a page can show the Chinese one without parsing a string."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bilingual:
    """A message: str() is "zh / en", as the command line prints every message."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


class BilingualError(Exception):
    """An error whose `zh` and `en` texts are kept apart; str() is "zh / en"."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en

    @property
    def message(self) -> Bilingual:
        return Bilingual(self.zh, self.en)

    def __reduce__(self):  # picklable (worker processes) with both fields
        return (self.__class__, (self.zh, self.en))
