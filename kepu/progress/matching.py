"""Which parent-plan task a local task implements: a pure text-similarity matcher.

No Django: plain ``(id, text)`` pairs in, scored suggestions out. A county's
"推动科技馆进校园" should find the city's "组织科技馆进校园、进社区活动" among a plan's
tasks. Texts are reduced to Chinese characters, letters and digits; each becomes a bag
of character bigrams weighted by TF-IDF over both task lists (so words every task uses,
such as 开展 or 加强, weigh little), and pairs are scored by cosine similarity through
an inverted index (only pairs sharing a bigram are scored, so a plan of thousands of
tasks stays fast).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

_KEEP = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]+")
DEFAULT_THRESHOLD = 0.2
DEFAULT_TOP = 3
MAX_TEXT = 400


@dataclass(frozen=True)
class Suggestion:
    local_id: int
    parent_id: int
    score: float  # cosine similarity, 0..1


def normalise(text: str) -> str:
    return "".join(_KEEP.findall(text or "")).lower()[:MAX_TEXT]


def bigrams(text: str) -> Counter[str]:
    s = normalise(text)
    if len(s) == 1:
        return Counter([s])
    return Counter(s[i : i + 2] for i in range(len(s) - 1))


def _weights(bags: list[Counter[str]], idf: dict[str, float]) -> list[dict[str, float]]:
    out = []
    for bag in bags:
        vec = {g: (1 + math.log(n)) * idf[g] for g, n in bag.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        out.append({g: v / norm for g, v in vec.items()})
    return out


def suggest(
    local: Sequence[tuple[int, str]],
    parent: Sequence[tuple[int, str]],
    *,
    top: int = DEFAULT_TOP,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Suggestion]:
    """For each local task, up to ``top`` parent tasks scoring at least ``threshold``,
    best first (ties by parent id); local tasks in the order given."""
    local_bags = [bigrams(t) for _, t in local]
    parent_bags = [bigrams(t) for _, t in parent]
    df: Counter[str] = Counter()
    for bag in (*local_bags, *parent_bags):
        df.update(bag.keys())
    n_docs = len(local_bags) + len(parent_bags)
    idf = {g: math.log((1 + n_docs) / (1 + n)) + 1 for g, n in df.items()}
    local_vecs = _weights(local_bags, idf)
    parent_vecs = _weights(parent_bags, idf)
    index: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for j, vec in enumerate(parent_vecs):
        for g, w in vec.items():
            index[g].append((j, w))
    out: list[Suggestion] = []
    for i, vec in enumerate(local_vecs):
        scores: dict[int, float] = defaultdict(float)
        for g, w in vec.items():
            for j, pw in index.get(g, ()):
                scores[j] += w * pw
        best = sorted(
            ((s, parent[j][0]) for j, s in scores.items() if s >= threshold),
            key=lambda x: (-x[0], x[1]),
        )[:top]
        out.extend(Suggestion(local[i][0], pid, round(min(s, 1.0), 4)) for s, pid in best)
    return out
