"""Training features: token ids, casing, and labels aligned to tokens, for each task."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import ENTITY_LABELS, QAExample, Sentence
from .text import Window, qa_windows, text_windows, tokenize, tokenize_batch

IGNORE = -100


@dataclass
class Feature:
    window: Window
    label: object  # int (pooled tasks), list[int] per position (entities), (start, end) positions (answers)


def classification_features(tok, texts: list[str], labels: list[int], max_length: int, stride: int):
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    out = []
    for t, y in zip(tokenize_batch(tok, texts), labels):
        # Training texts are short; the first window carries the label.
        out.append(Feature(text_windows(t, max_length, stride, cls_id, sep_id)[0], int(y)))
    return out


def document_features(tok, texts: list[str], labels: list[int], max_length: int, stride: int, max_windows: int = 0):
    """Long texts windowed as inference windows them (`text_windows`: `max_length` with `stride`
    tokens of overlap), every window carrying its document's label and, as `window.source`, the
    document's index (to aggregate a document's window predictions). `max_windows` > 0 keeps that
    many windows per document, spread evenly from first to last (the first and the last kept)."""
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    out = []
    for doc, (t, y) in enumerate(zip(tokenize_batch(tok, texts), labels)):
        windows = text_windows(t, max_length, stride, cls_id, sep_id, source=doc)
        if 0 < max_windows < len(windows):
            last = len(windows) - 1
            keep = sorted({round(i * last / (max_windows - 1)) for i in range(max_windows)}) if max_windows > 1 else [0]
            windows = [windows[i] for i in keep]
        out.extend(Feature(w, int(y)) for w in windows)
    return out


SHORT_REVIEW_TOKENS, LONG_REVIEW_TOKENS = 128, 400


def length_buckets(tok, texts: list[str]) -> dict[str, list[int]]:
    """Indexes of `texts` by WordPiece length (no specials), as the long-review dev split is reported:
    `short` under 128 tokens, `long` over 400, `middle` the rest."""
    out: dict[str, list[int]] = {"short": [], "middle": [], "long": []}
    for i, t in enumerate(tokenize_batch(tok, texts)):
        n = len(t.ids)
        out["short" if n < SHORT_REVIEW_TOKENS else "long" if n > LONG_REVIEW_TOKENS else "middle"].append(i)
    return out


def conll_text(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The sentence as one string (tokens joined by single spaces) and each token's char span."""
    spans, pos = [], 0
    for tk in tokens:
        spans.append((pos, pos + len(tk)))
        pos += len(tk) + 1
    return " ".join(tokens), spans


def word_tags(t, spans: list[tuple[int, int]], tags: list[str]) -> dict[int, str]:
    """Tag of each tokenizer word: the first word of a CoNLL token takes its tag, later words of the
    same token continue it (I-X), so inference on the words decodes to the same entities."""
    start_of = {}
    for k, (s, _e) in enumerate(spans):
        start_of[s] = k
    token_of_char = np.full(spans[-1][1] + 1 if spans else 1, -1)
    for k, (s, e) in enumerate(spans):
        token_of_char[s:e] = k
    out: dict[int, str] = {}
    seen_tokens = set()
    for i, w in enumerate(t.word_ids):
        if w < 0 or w in out:
            continue
        k = int(token_of_char[t.offsets[i][0]])
        tag = tags[k]
        if k in seen_tokens and tag != "O":
            tag = "I-" + tag.split("-", 1)[1]
        seen_tokens.add(k)
        out[w] = tag
    return out


def entity_features(tok, sentences: list[Sentence], max_length: int, stride: int):
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    label_id = {label: i for i, label in enumerate(ENTITY_LABELS)}
    texts, spans = zip(*(conll_text(s.tokens) for s in sentences)) if sentences else ((), ())
    out = []
    for t, sp, s in zip(tokenize_batch(tok, list(texts)), spans, sentences):
        wt = word_tags(t, sp, s.tags)
        first = set()
        token_labels = []
        for w in t.word_ids:
            if w >= 0 and w not in first:
                first.add(w)
                token_labels.append(label_id[wt[w]])
            else:
                token_labels.append(IGNORE)
        for win in text_windows(t, max_length, stride, cls_id, sep_id):
            labels = [IGNORE if j < 0 else token_labels[j] for j in win.token_index]
            out.append(Feature(win, labels))
    return out


def char_to_tokens(offsets, start: int, end: int) -> tuple[int, int]:
    """First and last token overlapping the character span [start, end); (-1, -1) if none."""
    a = b = -1
    for i, (s, e) in enumerate(offsets):
        if e > start and s < end:
            if a < 0:
                a = i
            b = i
    return a, b


def qa_features(tok, examples: list[QAExample], max_length: int, stride: int, max_question_tokens: int):
    """Windows containing the (first) answer, labelled with its start/end positions; others dropped."""
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    cache = {}
    out = []
    dropped = 0
    for ex in examples:
        if ex.context not in cache:
            cache[ex.context] = tokenize(tok, ex.context)
        c = cache[ex.context]
        s = ex.starts[0]
        a, b = char_to_tokens(c.offsets, s, s + len(ex.answers[0]))
        if a < 0:
            dropped += 1
            continue
        for win in qa_windows(tokenize(tok, ex.question), c, max_length, stride, max_question_tokens, cls_id, sep_id):
            first = win.token_index[win.ctx_start]
            last = win.token_index[win.ctx_stop - 1]
            if first <= a and b <= last:
                out.append(Feature(win, (win.ctx_start + a - first, win.ctx_start + b - first)))
    return out, dropped
