"""Comparing two classifiers on the same test set: McNemar's test and bootstrap confidence intervals.

Both work on *correctness vectors*: ``correct[i]`` is True when image ``i`` of the test set was classified
right. Two models tested on the same images are paired, so the right test is on the images where they
disagree, not on the two accuracies as if they were independent samples.

McNemar's test (McNemar 1947). With ``b`` = images model A gets right and model B wrong, ``c`` = the
reverse, under the null hypothesis (equal error rates) ``b ~ Binomial(b + c, 1/2)``. The exact two-sided
p-value is ``min(1, 2 P[X <= min(b, c)])``.

The paired bootstrap (Efron & Tibshirani 1993): resample the test images with replacement, the same
resample for both models, and read the 2.5% and 97.5% quantiles of the accuracy difference. With several
seeds per model, each image's correctness is first averaged over the seeds, so the interval is for the
difference of the *mean* accuracies.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def encode_predictions(predictions) -> str:
    """Predicted classes (0-9) as one string of digits: 10,000 test predictions in 10 kB of JSON."""
    values = np.asarray(predictions, dtype=np.int64).ravel()
    if values.size and (values.min() < 0 or values.max() > 9):
        raise ValueError("encode_predictions stores classes 0-9 only")
    return "".join(map(str, values.tolist()))


def decode_predictions(text: str) -> np.ndarray:
    """The inverse of :func:`encode_predictions`: an int64 array."""
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8).astype(np.int64) - ord("0")


@dataclass(frozen=True)
class McNemar:
    """``b``: A right and B wrong; ``c``: A wrong and B right; ``p``: exact two-sided p-value."""

    b: int
    c: int
    p: float


def binomial_two_sided(k: int, n: int) -> float:
    """``min(1, 2 P[X <= k])`` for ``X ~ Binomial(n, 1/2)`` and ``k <= n / 2``, summed in log space."""
    if n == 0:
        return 1.0
    log_half_n = n * math.log(0.5)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + log_half_n for i in range(k + 1)]
    top = max(terms)
    tail = math.exp(top) * sum(math.exp(t - top) for t in terms)
    return min(1.0, 2.0 * tail)


def mcnemar(correct_a, correct_b) -> McNemar:
    """McNemar's exact test for two correctness vectors of the same test images."""
    a, b_ = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b_.shape or a.ndim != 1:
        raise ValueError(f"mcnemar needs two correctness vectors of one length (got shapes {a.shape} and {b_.shape})")
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    return McNemar(b, c, binomial_two_sided(min(b, c), b + c))


def _as_seeds(correct) -> np.ndarray:
    array = np.asarray(correct, dtype=np.float64)
    return array[None, :] if array.ndim == 1 else array


def bootstrap_difference(correct_a, correct_b, *, resamples: int = 2000, seed: int = 0,
                         level: float = 0.95) -> tuple[float, float, float]:
    """``(difference, low, high)`` of mean accuracy A minus B, in fractions, by the paired bootstrap.

    ``correct_a``: ``(N,)`` or ``(seeds_a, N)``; ``correct_b``: ``(N,)`` or ``(seeds_b, N)``; the same N
    test images in the same order.
    """
    a, b = _as_seeds(correct_a).mean(0), _as_seeds(correct_b).mean(0)
    if a.shape != b.shape:
        raise ValueError(f"bootstrap_difference needs the same test images for both (got {a.size} and {b.size})")
    per_image = a - b
    rng = np.random.default_rng(seed)
    n = per_image.size
    means = np.empty(resamples)
    for start in range(0, resamples, 250):  # 250 resamples at a time keeps memory small
        stop = min(start + 250, resamples)
        means[start:stop] = per_image[rng.integers(0, n, size=(stop - start, n))].mean(1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(per_image.mean()), float(low), float(high)


def bootstrap_accuracy(correct, **kwargs) -> tuple[float, float, float]:
    """``(accuracy, low, high)`` of the mean accuracy over seeds, by the bootstrap over test images."""
    seeds = _as_seeds(correct)
    return bootstrap_difference(seeds, np.zeros_like(seeds[0]), **kwargs)


# Two-sided 95% quantiles of Student's t, by degrees of freedom (beyond 30: the normal's 1.96 is within 4%).
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
         20: 2.086, 25: 2.060, 30: 2.042}


def t_interval(values) -> tuple[float, float, float] | None:
    """``(mean, low, high)``: the 95% t-interval of the mean of ``values`` (one per seed), or ``None`` for fewer
    than two values (one seed gives a figure, not an interval)."""
    values = np.asarray(list(values), dtype=np.float64)
    n = values.size
    if n < 2:
        return None
    half = t_quantile(n - 1) * values.std(ddof=1) / math.sqrt(n)
    mean = float(values.mean())
    return mean, mean - half, mean + half


def t_quantile(df: float) -> float:
    """The two-sided 95% quantile of Student's t with ``df`` degrees of freedom (a fractional ``df``, as
    Welch's gives, takes the table's next lower entry: the wider interval)."""
    return T_975[max(k for k in T_975 if k <= max(df, 1))] if df <= 30 else 1.96


def welch_interval(a: tuple[float, float, int], b: tuple[float, float, int]) -> tuple[float, float, float] | None:
    """``(difference, low, high)``: the 95% Welch interval of ``mean(b) - mean(a)`` for two independent samples
    given as ``(mean, sample std, n)`` (here: seeds trained on two devices), or ``None`` when either has fewer
    than two values."""
    (ma, sa, na), (mb, sb, nb) = a, b
    if na < 2 or nb < 2:
        return None
    va, vb = sa * sa / na, sb * sb / nb
    difference = mb - ma
    if va + vb == 0:
        return difference, difference, difference
    df = (va + vb) ** 2 / (va * va / (na - 1) + vb * vb / (nb - 1))
    half = t_quantile(df) * math.sqrt(va + vb)
    return difference, difference - half, difference + half


def rank_sum_p(a, b) -> float:
    """The exact two-sided p-value of the Wilcoxon rank-sum (Mann-Whitney U) test of two small independent
    samples: the share of all ways to split the pooled values into groups of ``len(a)`` and ``len(b)`` whose
    rank sum for the first group lies at least as far from its mean as the observed one (ties share their
    mean rank). It asks whether one sample tends to lie above the other, through ranks only: a run that
    collapsed counts as one low rank, not by how far it fell, and no normal shape is assumed. With ``n``
    values a side, the smallest p it can give is ``2 / C(2n, n)`` (0.1 for 3 seeds, 0.0079 for 5)."""
    from itertools import combinations

    a, b = [float(v) for v in a], [float(v) for v in b]
    if not a or not b:
        raise ValueError("rank_sum_p needs at least one value in each sample")
    ranks = midranks(a + b)
    expected = len(a) * (len(ranks) + 1) / 2
    observed = abs(sum(ranks[:len(a)]) - expected)
    splits = [abs(sum(ranks[i] for i in chosen) - expected) for chosen in combinations(range(len(ranks)), len(a))]
    return sum(d >= observed - 1e-9 for d in splits) / len(splits)


def midranks(values: list[float]) -> list[float]:
    """Each value's rank (from 1) among ``values``, tied values sharing the mean of their ranks."""
    pooled = sorted(values)
    first = {v: pooled.index(v) + 1 for v in set(pooled)}
    last = {v: len(pooled) - pooled[::-1].index(v) for v in set(pooled)}
    return [(first[v] + last[v]) / 2 for v in values]


def holm(p_values: list[float], alpha: float = 0.05) -> list[bool]:
    """Holm's step-down correction: which of several tests reject at family-wise level ``alpha`` (the smallest
    p against ``alpha / m``, the next against ``alpha / (m - 1)``, ..., stopping at the first that fails)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    for step, i in enumerate(order):
        if p_values[i] > alpha / (len(p_values) - step):
            break
        rejected[i] = True
    return rejected


def kruskal_wallis_p(groups: list, *, resamples: int = 20_000, seed: int = 0) -> float:
    """Whether several small independent samples (a factor's values, a few seeds each) come from one
    distribution: the Kruskal-Wallis statistic H (the spread of the groups' mean ranks) with its p-value from
    ``resamples`` random reassignments of the pooled values to groups of the same sizes (seeded, so the same
    data give the same p). Ranks, like :func:`rank_sum_p`: a collapsed run is one low rank."""
    sizes = [len(g) for g in groups]
    if len(groups) < 2 or min(sizes) < 1:
        raise ValueError("kruskal_wallis_p needs at least two non-empty groups")
    ranks = np.array(midranks([float(v) for g in groups for v in g]))
    bounds = np.cumsum([0] + sizes)
    centre = (len(ranks) + 1) / 2

    def h(order: np.ndarray) -> float:
        r = ranks[order]
        return float(sum(n * (r[a:b].mean() - centre) ** 2 for n, a, b in zip(sizes, bounds[:-1], bounds[1:])))

    observed = h(np.arange(len(ranks)))
    rng = np.random.default_rng(seed)
    exceed = sum(h(rng.permutation(len(ranks))) >= observed - 1e-9 for _ in range(resamples))
    return (exceed + 1) / (resamples + 1)
