"""Decoding rules on hand-written logits (no ONNX needed)."""

import numpy as np
import pytest

from trident_training.inference import (
    best_span,
    bio_entities,
    merge_token_probs,
    softmax,
    utf16_index,
    word_predictions,
)
from trident_training.text import TextTokens, Window

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG"]


def one_hot(k, p=0.9):
    v = np.full(len(LABELS), (1 - p) / (len(LABELS) - 1))
    v[k] = p
    return v


def test_bio_entities_conlleval_rule():
    words = [
        (0, 4, 1, 0.9),
        (5, 10, 2, 0.7),
        (11, 13, 0, 0.99),
        (14, 17, 4, 0.6),
        (18, 20, 2, 0.8),
        (21, 25, 3, 0.5),
        (26, 30, 3, 0.7),
    ]
    ents = bio_entities(words, LABELS)
    assert ents == [
        ("PER", 0, 10, pytest.approx(0.8)),
        ("ORG", 14, 17, 0.6),
        ("PER", 18, 20, 0.8),
        ("ORG", 21, 25, 0.5),
        ("ORG", 26, 30, 0.7),
    ]


def test_word_aggregation():
    t = TextTokens("Washington x", [1, 2, 3], [(0, 4), (4, 10), (11, 12)], [0, 0, 1], [2, 1, 1])
    probs = np.stack([one_hot(1, 0.6), one_hot(3, 0.9), one_hot(0)])
    assert [w[2] for w in word_predictions(t, probs, "first")] == [1, 0]
    assert word_predictions(t, probs, "first")[0][:2] == (0, 10)
    assert word_predictions(t, probs, "max")[0][2] == 3
    avg = word_predictions(t, probs, "average")[0]
    assert avg[2] == 3 and avg[3] == pytest.approx((0.4 / 4 + 0.9) / 2)


def test_merge_prefers_window_farthest_from_edge():
    # 6 tokens, windows over [0,4) and [2,6) (content positions 1..4 in each row)
    w1 = Window([0] * 6, [0] * 6, [0] * 6, [-1, 0, 1, 2, 3, -1], 1, 5)
    w2 = Window([0] * 6, [0] * 6, [0] * 6, [-1, 2, 3, 4, 5, -1], 1, 5)
    p1 = np.zeros((6, 2))
    p1[:, 0] = 1
    p2 = np.zeros((6, 2))
    p2[:, 1] = 1
    merged = merge_token_probs([w1, w2], [p1, p2], 6)
    # token 2: distance 1 in w1 (pos 2 of 4), 0 in w2 -> w1; token 3: 0 in w1, 1 in w2 -> w2
    assert merged[:, 0].tolist() == [1, 1, 1, 0, 0, 0]


def test_best_span_masks_and_limits():
    w = Window([0] * 7, [0] * 7, [0] * 7, [-1, -1, -1, 0, 1, 2, -1], 3, 6)
    logits = np.full((7, 2), -5.0)
    logits[0] = [50, 50]  # CLS, outside the context: must be ignored
    logits[3, 0] = 3.0  # start at token 0
    logits[5, 1] = 3.0  # end at token 2
    score, a, b = best_span([w], [logits], max_answer_tokens=30)
    ps, pe = softmax(logits[3:6, 0]), softmax(logits[3:6, 1])
    assert (a, b) == (0, 2) and score == pytest.approx(ps[0] * pe[2])
    score, a, b = best_span([w], [logits], max_answer_tokens=2)
    assert b - a + 1 <= 2
    # end before start is never chosen
    logits2 = np.full((7, 2), -5.0)
    logits2[5, 0] = 5
    logits2[3, 1] = 5
    _, a, b = best_span([w], [logits2], 30)
    assert a <= b


def test_utf16_index():
    text = "a😀b北"
    conv = utf16_index(text)
    assert [conv(i) for i in range(5)] == [0, 1, 3, 4, 5]
