"""Window aggregation of sequence heads (model/README.md): the same hand-computed numbers as the
runtime's model/decode/window-aggregation.test.ts, so both sides are held to one definition."""

from types import SimpleNamespace

import numpy as np
import pytest

from trident_training.inference import WINDOW_AGGREGATIONS, aggregate_windows, softmax


def window(source: int, text_tokens: int):
    return SimpleNamespace(source=source, ctx_start=1, ctx_stop=1 + text_tokens)


# Text 0: three windows, labels [A, B]; the first very sure of A, the last two mildly for B, the last short.
LOGITS = [np.array([6, 0], np.float32), np.array([0, 2], np.float32), np.array([0, 2], np.float32)]
WINDOWS = [window(0, 30), window(0, 30), window(0, 6)]


@pytest.mark.parametrize(
    "how, p_a",
    [("mean-probabilities", 0.411978), ("mean-logits", 0.660756), ("length-weighted", 0.518441)],
)
def test_the_three_rules_on_hand_computed_numbers(how, p_a):
    p = aggregate_windows(WINDOWS, LOGITS, 1, how)[0]
    assert p == pytest.approx([p_a, 1 - p_a], abs=1e-6)


@pytest.mark.parametrize("how", WINDOW_AGGREGATIONS)
def test_one_window_is_its_softmax_and_texts_stay_apart(how):
    z = np.array([0.5, -1.25, 2], np.float32)
    out = aggregate_windows([window(0, 17), window(1, 0)], [z, z[::-1].copy()], 2, how)
    assert out[0] == pytest.approx(softmax(z.astype(np.float64)), abs=1e-6)
    # a text without tokens (one [CLS] [SEP] window) gets that window's softmax, never zeros
    assert out[1] == pytest.approx(softmax(z[::-1].astype(np.float64)), abs=1e-6)


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="window aggregation"):
        aggregate_windows(WINDOWS, LOGITS, 1, "median")
