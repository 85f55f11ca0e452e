"""Body-text scoring of the ScrapingHub article-extraction benchmark: word 4-gram shingles.

Per document: true positives, false positives and false negatives over shingle counts,
normalised so each document weighs the same; precision averaged over documents with output,
recall over documents with reference text; F1 the harmonic mean of the two averages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass
class DocScore:
    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_document(expected: str, extracted: str) -> DocScore:
    exp, got = shingles(expected), shingles(extracted)
    tp = sum((exp & got).values())
    fp = sum(got.values()) - tp
    fn = sum(exp.values()) - tp
    total = tp + fp + fn
    if total == 0:
        return DocScore(0.0, 0.0, 0.0)
    return DocScore(tp / total, fp / total, fn / total)


@dataclass
class CorpusScore:
    precision: float
    recall: float
    f1: float
    documents: int


def score_corpus(pairs: Iterable[tuple[str, str]]) -> CorpusScore:
    """Score (expected, extracted) pairs the way the upstream benchmark does."""
    precisions: list[float] = []
    recalls: list[float] = []
    count = 0
    for expected, extracted in pairs:
        count += 1
        doc = score_document(expected, extracted)
        if extracted and extracted.strip():
            precisions.append(doc.precision)
        if expected and expected.strip():
            recalls.append(doc.recall)
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return CorpusScore(p, r, f1, count)


# Dragnet's annotation: the main content, then this line, then the reader comments
COMMENTS_SEPARATOR = "!@#$%^&*() COMMENTS"


def split_truth(text: str) -> tuple[str, str | None]:
    """(body, comments) of a ground-truth text; comments None where the annotation does not
    mark them apart (the whole text is then the body)."""
    head, sep, tail = (text or "").partition(COMMENTS_SEPARATOR)
    return (head.strip(), tail.strip()) if sep else (text or "", None)
