"""Temperature scaling (Guo et al., 2017) and top-label expected calibration error.

One temperature T > 0 per head: the runtime softmaxes `logits / T` (model/README.md, "Calibration").
T is fitted by minimising the negative log-likelihood of the gold labels; argmax decisions are
unchanged, only the probabilities move. Pure numpy, deterministic.
"""

from __future__ import annotations

import math

import numpy as np

# Search range of T: a factor of 100 either way is far beyond any head seen here; hitting an end
# means the logits carry no usable signal (the caller reports the value).
T_MIN, T_MAX = 1e-2, 1e2
_GOLDEN = (math.sqrt(5) - 1) / 2


def _logsumexp(x: np.ndarray) -> np.ndarray:
    """Row-wise log Σ exp over the last axis; rows may hold -inf (masked entries), never all of them."""
    m = x.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))[..., 0]


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of `labels` under softmax(logits / temperature).

    logits: [n, K] float, -inf for masked entries (QA context masks); labels: [n] int indices of
    unmasked entries.
    """
    z = np.asarray(logits, dtype=np.float64) / temperature
    gold = np.take_along_axis(z, np.asarray(labels)[:, None], axis=1)[:, 0]
    return float(np.mean(_logsumexp(z) - gold))


def fit_scalar(loss, iterations: int = 100) -> float:
    """The T in [T_MIN, T_MAX] minimising loss(T), by golden-section search on log T (`loss` must
    be unimodal in log T, as the NLL of temperature-scaled logits is)."""
    lo, hi = math.log(T_MIN), math.log(T_MAX)
    a = hi - _GOLDEN * (hi - lo)
    b = lo + _GOLDEN * (hi - lo)
    fa, fb = loss(math.exp(a)), loss(math.exp(b))
    for _ in range(iterations):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - _GOLDEN * (hi - lo)
            fa = loss(math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + _GOLDEN * (hi - lo)
            fb = loss(math.exp(b))
    return math.exp((lo + hi) / 2)


def fit_temperature(logits: np.ndarray, labels: np.ndarray, iterations: int = 100) -> float:
    """The T in [T_MIN, T_MAX] minimising nll(logits, labels, T), by golden-section search on log T.

    The NLL is convex in 1/T (a log-sum-exp of a linear function minus a linear function), hence
    unimodal in log T, so the bracketing search finds the global minimum; 100 steps shrink the
    bracket far below float precision. Raises ValueError on empty input.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if logits.ndim != 2 or len(logits) == 0 or len(labels) != len(logits):
        raise ValueError(f"need [n, K] logits and n labels, got {logits.shape} and {labels.shape}")
    return fit_scalar(lambda t: nll(logits, labels, t), iterations)


def ece_from_confidences(confidences: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Σ_b (n_b / n) · |accuracy_b − mean confidence_b| over `bins` equal-width bins of (0, 1]
    (bin b holds confidences in (b/bins, (b+1)/bins]; 0 goes to the first). 0.0 for no input."""
    conf = np.asarray(confidences, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    if len(conf) == 0:
        return 0.0
    which = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = which == b
        n_b = int(in_bin.sum())
        if n_b:
            total += n_b * abs(hit[in_bin].mean() - conf[in_bin].mean())
    return total / len(conf)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE: confidence = the largest probability, correct = its label is the gold one."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    return ece_from_confidences(probs.max(axis=1), probs.argmax(axis=1) == labels, bins)


def softmax_t(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / temperature) over the last axis, float64; -inf entries get 0."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
