"""Aho–Corasick: every occurrence of many patterns in one pass over the text.

The search costs one step per text character plus one per occurrence, however many patterns
there are, which keeps thousands of phrases as cheap as ten. Pure Python; a few dozen lines
were preferred over a C extension dependency.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence


class Automaton:
    def __init__(self, patterns: Sequence[str]) -> None:
        if any(not p for p in patterns):
            raise ValueError("empty pattern")
        self._goto: list[dict[str, int]] = [{}]
        self._fail: list[int] = [0]
        self._out: list[tuple[int, ...]] = [()]
        for index, pattern in enumerate(patterns):
            node = 0
            for ch in pattern:
                child = self._goto[node].get(ch)
                if child is None:
                    child = len(self._goto)
                    self._goto[node][ch] = child
                    self._goto.append({})
                    self._fail.append(0)
                    self._out.append(())
                node = child
            self._out[node] += (index,)
        self._link()

    def _link(self) -> None:
        """Breadth-first, so a node's failure target and its outputs are final before its own."""
        goto, fail, out = self._goto, self._fail, self._out
        queue = deque(goto[0].values())
        while queue:
            node = queue.popleft()
            for ch, child in goto[node].items():
                queue.append(child)
                target = fail[node]
                while target and ch not in goto[target]:
                    target = fail[target]
                fail[child] = goto[target].get(ch, 0)
                out[child] += out[fail[child]]

    def search(self, text: str) -> Iterator[tuple[int, int]]:
        """Yield ``(end, pattern_index)`` for every occurrence; ``end`` is exclusive."""
        goto, fail, out = self._goto, self._fail, self._out
        node = 0
        for position, ch in enumerate(text, 1):
            while node and ch not in goto[node]:
                node = fail[node]
            node = goto[node].get(ch, 0)
            for index in out[node]:
                yield position, index
