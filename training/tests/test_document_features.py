"""Long documents as training features: windowed as inference windows them, each window labelled."""

from trident_training.features import document_features, length_buckets
from trident_training.text import text_windows, tokenize_batch

LONG = " ".join(f"The {i}th scene drags, but the score and the acting carry it to the end." for i in range(60))


def test_every_window_of_a_document_carries_its_label_and_index(tokenizer):
    feats = document_features(tokenizer, ["Short and sweet.", LONG], [1, 0], max_length=64, stride=16)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    expected = text_windows(tokenize_batch(tokenizer, [LONG])[0], 64, 16, cls_id, sep_id)
    assert len(expected) > 10
    short = [f for f in feats if f.window.source == 0]
    long = [f for f in feats if f.window.source == 1]
    assert len(short) == 1 and short[0].label == 1
    assert [f.window.input_ids for f in long] == [w.input_ids for w in expected]  # the windows inference runs
    assert {f.label for f in long} == {0}
    assert all(len(f.window.input_ids) <= 64 for f in feats)


def test_max_windows_keeps_the_first_and_the_last_spread_evenly(tokenizer):
    every = document_features(tokenizer, [LONG], [1], max_length=64, stride=16)
    three = document_features(tokenizer, [LONG], [1], max_length=64, stride=16, max_windows=3)
    one = document_features(tokenizer, [LONG], [1], max_length=64, stride=16, max_windows=1)
    last = len(every) - 1
    assert [f.window.input_ids for f in three] == [every[i].window.input_ids for i in (0, round(last / 2), last)]
    assert [f.window.input_ids for f in one] == [every[0].window.input_ids]
    # Fewer windows than the cap: all of them.
    assert len(document_features(tokenizer, ["Short."], [0], 64, 16, max_windows=3)) == 1


def test_length_buckets_split_short_and_long_reviews(tokenizer):
    texts = ["Great film.", LONG, " ".join(["fine"] * 200)]
    assert length_buckets(tokenizer, texts) == {"short": [0], "middle": [2], "long": [1]}
