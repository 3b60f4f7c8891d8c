"""The valid values nearest to what was typed, by edit distance, for did-you-mean hints."""

from __future__ import annotations

from collections.abc import Iterable


def distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions to turn a into b."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def nearest(typed: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to n candidates closest to `typed`; only those within half its length (typos)."""
    if len(typed) > 64:  # no typo of a short name is that long; keeps the cost bounded
        return []
    limit = max(2, len(typed) // 2)
    scored = sorted((distance(typed, c), c) for c in set(candidates))
    return [c for d, c in scored[:n] if d <= limit]


def did_you_mean(typed: str, candidates: Iterable[str], n: int = 3) -> str:
    """` (did you mean 'a' or 'b'?)`, or "" when nothing is close."""
    close = nearest(typed, candidates, n)
    if not close:
        return ""
    quoted = [repr(c) for c in close]
    text = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f" (did you mean {text}?)"
