"""chrF, the character n-gram F-score that the adequacy check and its benchmark use."""

from __future__ import annotations

from collections import Counter


def _ngrams(text: str, n: int) -> Counter[str]:
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


def chrf(hypothesis: str, reference: str, order: int = 6, beta: float = 2.0) -> float:
    """chrF (Popović 2015) of ``hypothesis`` against ``reference`` in [0, 1]: the F-beta of
    character n-gram precision and recall averaged over n = 1..order, whitespace removed
    (sacrebleu's default chrF; the same sentence scores, divided by 100, on the
    checks made against sacrebleu 2.6).

    >>> chrf("The cat sat.", "The cat sat.")
    1.0
    >>> chrf("", "The cat sat.")
    0.0
    >>> chrf("The cat sat on the mat.", "The cat sat.")  # sacrebleu 2.6: 75.35
    0.7535
    """
    hyp, ref = "".join(hypothesis.split()), "".join(reference.split())
    precisions, recalls = [], []
    for n in range(1, order + 1):
        h, r = _ngrams(hyp, n), _ngrams(ref, n)
        if not h or not r:
            continue
        matched = sum((h & r).values())
        precisions.append(matched / h.total())
        recalls.append(matched / r.total())
    if not precisions:
        return 0.0
    p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if p + r == 0:
        return 0.0
    b2 = beta * beta
    return round((1 + b2) * p * r / (b2 * p + r), 4)
