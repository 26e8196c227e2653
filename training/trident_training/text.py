"""Tokenization, casing classes and windowing, exactly as model/README.md defines them.

A text is tokenized once without special tokens; windows are then cut from its token list and given
[CLS]/[SEP] here, so the same token list serves every window (and every head).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

# Casing classes (model/README.md, "Casing").
CASE_NONE, CASE_LOWER, CASE_TITLE, CASE_UPPER, CASE_MIXED = 0, 1, 2, 3, 4
CASE_CLASSES = 5


def load_tokenizer(path: Path | str) -> Tokenizer:
    """A `tokenizers` tokenizer with padding and truncation disabled (the windowing is ours)."""
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return tok


def write_tokenizer(src: Path | str, dst: Path | str) -> None:
    """Copies a tokenizer.json with padding and truncation set to null."""
    data = json.loads(Path(src).read_text(encoding="utf-8"))
    data["padding"] = None
    data["truncation"] = None
    Path(dst).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _is_upper(ch: str) -> bool:
    return ch.isupper()


def _is_lower(ch: str) -> bool:
    return ch.islower()


def case_class(piece: str) -> int:
    """Casing class of the original characters of one token (model/README.md).

    A cased letter is a character with the Unicode Uppercase or Lowercase property
    (Python `str.isupper()` / `str.islower()` on one character; JavaScript `/\\p{Lu}|\\p{Other_Uppercase}/u`
    is the same as `/\\p{Uppercase}/u`).
    """
    cased = [ch for ch in piece if _is_upper(ch) or _is_lower(ch)]
    if not cased:
        return CASE_NONE
    uppers = [_is_upper(ch) for ch in cased]
    if not any(uppers):
        return CASE_LOWER
    if all(uppers):
        return CASE_UPPER if len(cased) >= 2 else CASE_TITLE
    if uppers[0]:
        return CASE_TITLE
    return CASE_MIXED


@dataclass
class TextTokens:
    """One text tokenized without specials: ids, code-point offsets into the text, word index, casing."""

    text: str
    ids: list[int]
    offsets: list[tuple[int, int]]
    word_ids: list[int]
    case_ids: list[int]


def tokenize(tok: Tokenizer, text: str) -> TextTokens:
    enc = tok.encode(text, add_special_tokens=False)
    offsets = [tuple(o) for o in enc.offsets]
    word_ids = [(-1 if w is None else w) for w in enc.word_ids]
    cases = [case_class(text[s:e]) for s, e in offsets]
    return TextTokens(text, list(enc.ids), offsets, word_ids, cases)


def tokenize_batch(tok: Tokenizer, texts: list[str]) -> list[TextTokens]:
    encs = tok.encode_batch(texts, add_special_tokens=False)
    out = []
    for text, enc in zip(texts, encs):
        offsets = [tuple(o) for o in enc.offsets]
        word_ids = [(-1 if w is None else w) for w in enc.word_ids]
        cases = [case_class(text[s:e]) for s, e in offsets]
        out.append(TextTokens(text, list(enc.ids), offsets, word_ids, cases))
    return out


def window_ranges(n: int, size: int, stride: int) -> list[tuple[int, int]]:
    """[start, stop) token ranges of the windows over n tokens.

    Hugging Face `return_overflowing_tokens` + `stride`: windows of `size` tokens, each starting
    `size - stride` after the previous one, until a window reaches the end.
    """
    if size <= stride:
        raise ValueError(f"window of {size} tokens cannot overlap by stride {stride}")
    if n <= size:
        return [(0, n)]
    step = size - stride
    ranges = []
    start = 0
    while True:
        stop = min(start + size, n)
        ranges.append((start, stop))
        if stop == n:
            return ranges
        start += step


@dataclass
class Window:
    """One encoder input row. `token_index[i]` is the text token at row position i, -1 for specials
    and question tokens. Context positions are [ctx_start, ctx_stop)."""

    input_ids: list[int]
    token_type_ids: list[int]
    case_ids: list[int]
    token_index: list[int]
    ctx_start: int
    ctx_stop: int
    source: int = 0  # which text / question the window belongs to
    extra: dict = field(default_factory=dict)


def text_windows(
    t: TextTokens, max_length: int, stride: int, cls_id: int, sep_id: int, source: int = 0
) -> list[Window]:
    out = []
    for a, b in window_ranges(len(t.ids), max_length - 2, stride):
        ids = [cls_id] + t.ids[a:b] + [sep_id]
        cases = [CASE_NONE] + t.case_ids[a:b] + [CASE_NONE]
        index = [-1] + list(range(a, b)) + [-1]
        out.append(Window(ids, [0] * len(ids), cases, index, 1, 1 + b - a, source))
    return out


def qa_windows(
    q: TextTokens,
    c: TextTokens,
    max_length: int,
    stride: int,
    max_question_tokens: int,
    cls_id: int,
    sep_id: int,
    source: int = 0,
) -> list[Window]:
    """`[CLS] question [SEP] context-part [SEP]`; question cut to max_question_tokens; context windowed."""
    q_ids = q.ids[:max_question_tokens]
    q_cases = q.case_ids[:max_question_tokens]
    size = max_length - 3 - len(q_ids)
    out = []
    head = [cls_id] + q_ids + [sep_id]
    head_cases = [CASE_NONE] + q_cases + [CASE_NONE]
    for a, b in window_ranges(len(c.ids), size, stride):
        ids = head + c.ids[a:b] + [sep_id]
        types = [0] * len(head) + [1] * (b - a + 1)
        cases = head_cases + c.case_ids[a:b] + [CASE_NONE]
        index = [-1] * len(head) + list(range(a, b)) + [-1]
        out.append(Window(ids, types, cases, index, len(head), len(head) + b - a, source))
    return out


def pad_batch(windows: list[Window], with_case: bool) -> dict[str, np.ndarray]:
    """Dynamic padding to the longest window of the batch (pad id 0, mask 0)."""
    longest = max(len(w.input_ids) for w in windows)
    n = len(windows)
    ids = np.zeros((n, longest), dtype=np.int64)
    mask = np.zeros((n, longest), dtype=np.int64)
    types = np.zeros((n, longest), dtype=np.int64)
    cases = np.zeros((n, longest), dtype=np.int64)
    for i, w in enumerate(windows):
        k = len(w.input_ids)
        ids[i, :k] = w.input_ids
        mask[i, :k] = 1
        types[i, :k] = w.token_type_ids
        cases[i, :k] = w.case_ids
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    if with_case:
        feeds["case_ids"] = cases
    return feeds
