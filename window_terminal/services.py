"""Finding a 事项 fast: by Chinese name, by 事项编码, or by pinyin initials (社会保障卡申领 ← "shbzk").

Heteronyms count: 卡 matches both "k" and "q", so a clerk's guess of the reading works.
The window's own categories come first.
"""

from __future__ import annotations

from dataclasses import dataclass

from pypinyin import Style, pinyin

from config.schema import Service


@dataclass(frozen=True)
class Entry:
    service: Service
    initials: tuple[frozenset[str], ...]   # one set of possible initials per Chinese character
    own: bool                              # served by this window's categories


def _initials(name: str) -> tuple[frozenset[str], ...]:
    out: list[frozenset[str]] = []
    for ch in name:
        if not ("\u3400" <= ch <= "\u9fff" or ord(ch) >= 0x20000):
            continue
        options = pinyin(ch, style=Style.FIRST_LETTER, heteronym=True, errors="ignore")
        letters = frozenset(o.lower() for o in (options[0] if options else []) if o.isascii() and o.isalpha())
        out.append(letters or frozenset({"?"}))
    return tuple(out)


def _initials_at(initials: tuple[frozenset[str], ...], query: str) -> int:
    """Where `query` (letters) matches consecutive characters' initials; -1 if nowhere."""
    n = len(query)
    for start in range(len(initials) - n + 1):
        if all(query[i] in initials[start + i] for i in range(n)):
            return start
    return -1


class ServiceIndex:
    def __init__(self, services: tuple[Service, ...] | list[Service], own_categories: tuple[str, ...] = ()) -> None:
        self.entries = [Entry(s, _initials(s.name), s.category in own_categories) for s in services]
        self._by_code = {s.code: s for s in services}

    def get(self, code: str) -> Service | None:
        return self._by_code.get(code)

    def search(self, query: str, limit: int = 50) -> list[Service]:
        """Services matching `query`, best first; an empty query lists the window's own 事项 first."""
        q = query.strip()
        ranked: list[tuple[tuple[int, int, int], Service]] = []
        for order, e in enumerate(self.entries):
            score = self._score(e, q)
            if score is not None:
                ranked.append(((0 if e.own else 1, score, order), e.service))
        ranked.sort(key=lambda item: item[0])
        return [s for _, s in ranked[:limit]]

    @staticmethod
    def _score(e: Entry, q: str) -> int | None:
        if not q:
            return 0
        s = e.service
        low = q.lower()
        code = s.code.lower()
        if code == low:
            return 0
        if code.startswith(low):
            return 1
        if q in s.name:
            return 2 + s.name.index(q)
        if low in code:
            return 40
        if low.isascii() and low.isalpha():
            at = _initials_at(e.initials, low)
            if at >= 0:
                return 60 + at
        return None
