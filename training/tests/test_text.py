"""Windowing and casing as model/README.md defines them."""

import pytest

from trident_training.text import (
    CASE_LOWER,
    CASE_MIXED,
    CASE_NONE,
    CASE_TITLE,
    CASE_UPPER,
    case_class,
    qa_windows,
    text_windows,
    tokenize,
    window_ranges,
)

LONG = " ".join(f"word{i} and Some more text, here." for i in range(40))


def test_window_ranges_rule():
    assert window_ranges(5, 10, 2) == [(0, 5)]
    assert window_ranges(10, 10, 2) == [(0, 10)]
    assert window_ranges(11, 10, 2) == [(0, 10), (8, 11)]
    assert window_ranges(25, 10, 4) == [(0, 10), (6, 16), (12, 22), (18, 25)]
    with pytest.raises(ValueError):
        window_ranges(30, 4, 4)


@pytest.mark.parametrize("size,stride", [(30, 8), (62, 16), (126, 32)])
def test_windows_match_hugging_face_overflow(tokenizer, size, stride):
    """Same token windows as `tokenizers` truncation with stride and overflowing tokens."""
    from tokenizers import Tokenizer

    hf = Tokenizer.from_str(tokenizer.to_str())
    hf.enable_truncation(max_length=size, stride=stride)
    enc = hf.encode(LONG, add_special_tokens=False)
    hf_windows = [enc.ids] + [o.ids for o in enc.overflowing]
    t = tokenize(tokenizer, LONG)
    ours = [t.ids[a:b] for a, b in window_ranges(len(t.ids), size, stride)]
    assert ours == hf_windows


def test_text_windows_specials_and_index(tokenizer):
    t = tokenize(tokenizer, LONG)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    ws = text_windows(t, 32, 8, cls_id, sep_id)
    assert len(ws) > 3
    for w in ws:
        assert len(w.input_ids) <= 32
        assert w.input_ids[0] == cls_id and w.input_ids[-1] == sep_id
        assert w.token_index[0] == -1 and w.token_index[-1] == -1
        assert [t.ids[i] for i in w.token_index[1:-1]] == w.input_ids[1:-1]
    # consecutive windows share exactly `stride` tokens
    assert ws[0].token_index[-9:-1] == ws[1].token_index[1:9]
    assert ws[-1].token_index[-2] == len(t.ids) - 1


def test_qa_windows_layout(tokenizer):
    q = tokenize(tokenizer, "What is " + "very " * 40 + "long?")
    c = tokenize(tokenizer, LONG)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    ws = qa_windows(q, c, 64, 8, 16, cls_id, sep_id)
    assert len(ws) > 2
    for w in ws:
        assert len(w.input_ids) <= 64
        assert w.input_ids[:18] == [cls_id] + q.ids[:16] + [sep_id]  # question cut to 16 tokens
        assert w.ctx_start == 18 and w.input_ids[-1] == sep_id
        assert w.token_type_ids[:18] == [0] * 18 and set(w.token_type_ids[18:]) == {1}
    assert ws[0].token_index[ws[0].ctx_stop - 8 : ws[0].ctx_stop] == ws[1].token_index[18:26]


def test_case_classes():
    assert case_class("") == CASE_NONE
    assert case_class("123") == CASE_NONE
    assert case_class("😀") == CASE_NONE
    assert case_class("北京") == CASE_NONE
    assert case_class("hello") == CASE_LOWER
    assert case_class("Hello") == CASE_TITLE
    assert case_class("I") == CASE_TITLE and case_class("A") == CASE_TITLE
    assert case_class("NASA") == CASE_UPPER
    assert case_class("McDonald") == CASE_TITLE
    assert case_class("iPhone") == CASE_MIXED
    assert case_class("Émile") == CASE_TITLE and case_class("ÉCOLE") == CASE_UPPER
    assert case_class("##ing") == CASE_LOWER


def test_tokenize_offsets_and_casing_from_original_text(tokenizer):
    text = "José  met\tNASA in 北京 😀!"
    t = tokenize(tokenizer, text)
    pieces = [text[s:e] for s, e in t.offsets]
    assert "josé".startswith(tokenizer.decode([t.ids[0]]).replace(" ", "")[:2])
    assert pieces[0].startswith("Jos")
    assert t.case_ids[pieces.index("NASA")] == CASE_UPPER
    assert t.case_ids[pieces.index("北")] == CASE_NONE
    assert max(t.word_ids) + 1 == len({w for w in t.word_ids if w >= 0})
