"""Errors whose Chinese and English texts are separate fields, so a page can show the Chinese one without parsing."""
from __future__ import annotations


class BilingualError(Exception):
    """`zh` and `en` are the two texts; str() is "zh / en", as the command line prints every message."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en

    def __reduce__(self):  # picklable across processes with both fields
        return (self.__class__, (self.zh, self.en))
