"""Inference shared by evaluation (fp32 and int8) and the parity fixture: one code path.

An *encoder* is any callable feeds -> last_hidden_state (numpy float32 [batch, seq, hidden]); PyTorch
fp32 (`TorchEncoder`) and ONNX Runtime int8 (`OrtEncoder`) both fit. Heads are applied in numpy from
the same float32 tensors that the artifact ships, with the decoding rules of model/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .text import TextTokens, Window, load_tokenizer, pad_batch, qa_windows, text_windows, tokenize, tokenize_batch

Encoder = Callable[[dict], np.ndarray]


class OrtEncoder:
    def __init__(self, path: Path | str, threads: int = 2):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def __call__(self, feeds: dict) -> np.ndarray:
        return self.session.run(None, {k: feeds[k] for k in self.input_names})[0]


class TorchEncoder:
    """Wraps a trident `Encoder` module (see modeling.py) in eval mode, no grad."""

    def __init__(self, module):
        self.module = module.eval()

    def __call__(self, feeds: dict) -> np.ndarray:
        import torch

        with torch.inference_mode():
            args = {k: torch.from_numpy(v) for k, v in feeds.items()}
            return self.module(**args).float().numpy()


# ---------------------------------------------------------------- heads (numpy)

ACTIVATIONS = {
    "none": lambda x: x,
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0),
    "gelu": lambda x: 0.5 * x * (1 + np.vectorize(__import__("math").erf)(x / np.sqrt(2))),
}


@dataclass
class Head:
    name: str
    spec: dict  # the manifest entry
    tensors: dict[str, np.ndarray]

    @property
    def temperature(self) -> float:
        """The manifest's calibration temperature (absent: 1, the logits as trained)."""
        return float(self.spec.get("temperature", 1.0))

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The layers' output, before the temperature (what calibration fits T on)."""
        for layer in self.spec["layers"]:
            w = self.tensors[layer["weight"]]
            b = self.tensors[layer["bias"]]
            x = ACTIVATIONS[layer["activation"]](x @ w.T + b)
        return x

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Logits divided by the temperature: what every decoding rule softmaxes (model/README.md)."""
        y = self.logits(x)
        # Skipped at 1 so uncalibrated artifacts give bit-identical outputs.
        return y if self.temperature == 1.0 else y / np.float32(self.temperature)

    def pool(self, hidden: np.ndarray) -> np.ndarray:
        """hidden: [seq, H] of one window (unpadded)."""
        if self.spec["pooling"] == "cls":
            return hidden[0]
        if self.spec["pooling"] == "mean":
            return hidden.mean(axis=0)
        return hidden


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- running the encoder


def run_windows(
    encoder: Encoder,
    windows: list[Window],
    with_case: bool,
    fn: Callable[[int, np.ndarray], object],
    batch_size: int = 32,
    max_batch_tokens: int = 8192,
    progress=None,
) -> list:
    """Runs windows through the encoder in length-sorted, dynamically padded batches.

    Calls fn(i, hidden_i) with the unpadded hidden states of window i and returns the results in
    window order (so only the reduced outputs are kept in memory).
    """
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
    results: list = [None] * len(windows)
    pos = 0
    while pos < len(order):
        longest = len(windows[order[min(pos + batch_size, len(order)) - 1]].input_ids)
        n = max(1, min(batch_size, max_batch_tokens // max(longest, 1)))
        idx = order[pos : pos + n]
        batch = [windows[i] for i in idx]
        hidden = encoder(pad_batch(batch, with_case))
        for j, i in enumerate(idx):
            results[i] = fn(i, hidden[j, : len(windows[i].input_ids)])
        pos += len(idx)
        if progress is not None:
            progress.update(len(idx))
    return results


# ---------------------------------------------------------------- decoding rules

# How a sequence head's window outputs become one text's probabilities (model/README.md).
WINDOW_AGGREGATIONS = ("mean-probabilities", "mean-logits", "length-weighted")
DEFAULT_WINDOW_AGGREGATION = "mean-probabilities"


def aggregate_windows(windows: list[Window], logits: list[np.ndarray], n_texts: int, how: str) -> np.ndarray:
    """[n_texts, labels] from per-window logits: `mean-probabilities` — mean of the windows'
    softmax; `mean-logits` — softmax of the windows' mean logits; `length-weighted` — mean of the
    softmax weighted by each window's text tokens (a short last window counts less)."""
    if how not in WINDOW_AGGREGATIONS:
        raise ValueError(f"window aggregation {how!r}: expected one of {', '.join(WINDOW_AGGREGATIONS)}")
    labels = logits[0].shape[-1] if logits else 0
    by_length = how == "length-weighted"
    # A text without tokens has one window of none: equal weights then (the runtime's rule too).
    tokens = np.zeros(n_texts)
    for w in windows:
        tokens[w.source] += w.ctx_stop - w.ctx_start
    total = np.zeros((n_texts, labels), dtype=np.float64)
    weight = np.zeros(n_texts)
    for w, z in zip(windows, logits):
        k = float(w.ctx_stop - w.ctx_start) if by_length and tokens[w.source] > 0 else 1.0
        total[w.source] += k * (z if how == "mean-logits" else softmax(z))
        weight[w.source] += k
    mean = total / np.maximum(weight, 1e-12)[:, None]
    return softmax(mean) if how == "mean-logits" else mean


def merge_token_probs(windows: list[Window], per_window: list[np.ndarray], n_tokens: int) -> np.ndarray:
    """Per text token, the row from the window where it is farthest from either edge (ties: earlier)."""
    labels = per_window[0].shape[-1]
    out = np.zeros((n_tokens, labels), dtype=np.float32)
    best = np.full(n_tokens, -1, dtype=np.int64)
    for w, probs in zip(windows, per_window):
        n = w.ctx_stop - w.ctx_start
        for p in range(n):
            t = w.token_index[w.ctx_start + p]
            d = min(p, n - 1 - p)
            if d > best[t]:
                best[t] = d
                out[t] = probs[w.ctx_start + p]
    return out


def word_vectors(t: TextTokens, token_probs: np.ndarray, aggregation: str):
    """[(word_start, word_end, label probability vector)] per word, in order."""
    words: dict[int, list[int]] = {}
    for i, w in enumerate(t.word_ids):
        if w >= 0:
            words.setdefault(w, []).append(i)
    out = []
    for w in sorted(words):
        toks = words[w]
        if aggregation == "first":
            vec = token_probs[toks[0]]
        elif aggregation == "average":
            vec = token_probs[toks].mean(axis=0)
        elif aggregation == "max":
            vec = token_probs[toks].max(axis=0)
        else:
            raise ValueError(f"unknown aggregation {aggregation!r} (first, average, max)")
        out.append((t.offsets[toks[0]][0], t.offsets[toks[-1]][1], vec))
    return out


def word_predictions(t: TextTokens, token_probs: np.ndarray, aggregation: str):
    """[(word_start, word_end, label_index, probability)] per word, in order."""
    out = []
    for start, end, vec in word_vectors(t, token_probs, aggregation):
        k = int(np.argmax(vec))
        out.append((start, end, k, float(vec[k])))
    return out


def bio_entities(words, labels: list[str]):
    """[(type, start, end, score)] from word BIO labels, conlleval's rule for a stray I-X."""
    entities = []
    cur = None  # [type, start, end, probs]
    for start, end, k, p in words:
        tag = labels[k]
        if tag == "O":
            if cur:
                entities.append(cur)
            cur = None
            continue
        prefix, typ = tag.split("-", 1)
        if prefix == "I" and cur is not None and cur[0] == typ:
            cur[2] = end
            cur[3].append(p)
        else:
            if cur:
                entities.append(cur)
            cur = [typ, start, end, [p]]
    if cur:
        entities.append(cur)
    return [(typ, s, e, float(np.mean(ps))) for typ, s, e, ps in entities]


def _span_scores(w: Window, logits: np.ndarray, max_answer_tokens: int) -> np.ndarray:
    """[n, n] p_start · p_end over the window's context tokens; -1 where the span is not allowed."""
    a, b = w.ctx_start, w.ctx_stop
    ps = softmax(logits[a:b, 0])
    pe = softmax(logits[a:b, 1])
    scores = np.outer(ps, pe)
    n = b - a
    i, j = np.indices((n, n))
    scores[(j < i) | (j - i + 1 > max_answer_tokens)] = -1.0
    return scores


def span_margin(windows: list[Window], per_window_logits: list[np.ndarray], max_answer_tokens: int) -> float:
    """Best span score minus the best score of any other token span (over all windows); 1.0 if only one."""
    best: dict[tuple[int, int], float] = {}
    for w, logits in zip(windows, per_window_logits):
        if w.ctx_stop <= w.ctx_start:
            continue
        scores = _span_scores(w, logits, max_answer_tokens)
        for s, e in zip(*np.nonzero(scores >= 0)):
            key = (w.token_index[w.ctx_start + s], w.token_index[w.ctx_start + e])
            best[key] = max(best.get(key, -1.0), float(scores[s, e]))
    top = sorted(best.values(), reverse=True)[:2]
    return top[0] - top[1] if len(top) == 2 else 1.0


def best_span(windows: list[Window], per_window_logits: list[np.ndarray], max_answer_tokens: int):
    """(score, first_token, last_token) over all windows; logits [seq, 2] per window."""
    best = (-1.0, -1, -1)
    for w, logits in zip(windows, per_window_logits):
        a, b = w.ctx_start, w.ctx_stop
        if b <= a:
            continue
        scores = _span_scores(w, logits, max_answer_tokens)
        n = b - a
        flat = int(np.argmax(scores))
        s, e = divmod(flat, n)
        if scores[s, e] > best[0]:
            best = (float(scores[s, e]), w.token_index[a + s], w.token_index[a + e])
    return best


# ---------------------------------------------------------------- artifact-level API


@dataclass
class Model:
    """A manifest's settings, its tokenizer and heads, with any encoder (fp32 torch or int8 ORT)."""

    manifest: dict
    tokenizer: object
    heads: dict[str, Head]
    encoder: Encoder

    @property
    def with_case(self) -> bool:
        return bool(self.manifest.get("casing"))

    @property
    def special(self) -> tuple[int, int]:
        return self.tokenizer.token_to_id("[CLS]"), self.tokenizer.token_to_id("[SEP]")

    @classmethod
    def from_artifact(cls, folder: Path | str, threads: int = 2, encoder: Encoder | None = None) -> Model:
        from safetensors.numpy import load_file

        folder = Path(folder)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        tok = load_tokenizer(folder / manifest["tokenizer"]["file"])
        heads = {
            name: Head(name, spec, load_file(str(folder / spec["file"]))) for name, spec in manifest["heads"].items()
        }
        if encoder is None:
            encoder = OrtEncoder(folder / manifest["encoder"]["file"], threads)
        return cls(manifest, tok, heads, encoder)

    def head_for(self, task: str) -> list[Head]:
        return [h for h in self.heads.values() if h.spec["task"] == task]

    # ---- batched primitives used by evaluation and predict

    def classify(self, texts: list[str], head: Head, progress=None, aggregation: str | None = None) -> np.ndarray:
        """Per text, its windows' outputs aggregated by the head's `window_aggregation` (or
        `aggregation`); [n_texts, labels] probabilities."""
        windows, logits = self.window_logits(texts, head, progress)
        how = aggregation or head.spec.get("window_aggregation", DEFAULT_WINDOW_AGGREGATION)
        return aggregate_windows(windows, logits, len(texts), how)

    def window_logits(self, texts: list[str], head: Head, progress=None) -> tuple[list[Window], list[np.ndarray]]:
        """Every text window (`source` = the text's index) and the head's logits for it (divided by
        the temperature), so several aggregations can be compared on one encoder pass."""
        cls_id, sep_id = self.special
        L, S = self.manifest["max_length"], self.manifest["stride"]
        windows = []
        for i, t in enumerate(tokenize_batch(self.tokenizer, texts)):
            windows += text_windows(t, L, S, cls_id, sep_id, source=i)
        logits = run_windows(self.encoder, windows, self.with_case, lambda i, h: head(head.pool(h)), progress=progress)
        return windows, logits

    def token_probs(self, texts: list[str], head: Head, progress=None):
        """[(TextTokens, merged per-token probs [n_tokens, labels])] per text."""
        cls_id, sep_id = self.special
        L, S = self.manifest["max_length"], self.manifest["stride"]
        toks = tokenize_batch(self.tokenizer, texts)
        windows = []
        for i, t in enumerate(toks):
            windows += text_windows(t, L, S, cls_id, sep_id, source=i)
        probs = run_windows(
            self.encoder, windows, self.with_case, lambda i, h: softmax(head(h)).astype(np.float32), progress=progress
        )
        by_text: dict[int, tuple[list, list]] = {}
        for w, p in zip(windows, probs):
            by_text.setdefault(w.source, ([], []))
            by_text[w.source][0].append(w)
            by_text[w.source][1].append(p)
        out = []
        for i, t in enumerate(toks):
            if not t.ids:
                out.append((t, np.zeros((0, len(head.spec["labels"])), dtype=np.float32)))
                continue
            ws, ps = by_text[i]
            out.append((t, merge_token_probs(ws, ps, len(t.ids))))
        return out

    def answer(self, pairs: list[tuple[str, str]], head: Head, progress=None):
        """[(score, start_char, end_char)] per (question, context); -1 offsets when no context."""
        ctx_of, groups = self.answer_windows(pairs, head, progress)
        out = []
        for i in range(len(pairs)):
            if i not in groups:
                out.append((0.0, -1, -1))
                continue
            score, a, b = best_span(*groups[i], head.spec["max_answer_tokens"])
            ct = ctx_of[i]
            out.append((score, ct.offsets[a][0], ct.offsets[b][1]) if a >= 0 else (0.0, -1, -1))
        return out

    def answer_windows(self, pairs: list[tuple[str, str]], head: Head, progress=None):
        """(context tokens per pair, {pair index: (windows, QA logits per window)})."""
        cls_id, sep_id = self.special
        L, S = self.manifest["max_length"], self.manifest["stride"]
        maxq = head.spec["max_question_tokens"]
        ctx_cache: dict[str, TextTokens] = {}
        windows = []
        ctx_of = []
        for i, (q, c) in enumerate(pairs):
            if c not in ctx_cache:
                ctx_cache[c] = tokenize(self.tokenizer, c)
            ct = ctx_cache[c]
            ctx_of.append(ct)
            windows += qa_windows(tokenize(self.tokenizer, q), ct, L, S, maxq, cls_id, sep_id, source=i)
        logits = run_windows(self.encoder, windows, self.with_case, lambda i, h: head(h), progress=progress)
        groups: dict[int, tuple[list, list]] = {}
        for w, lg in zip(windows, logits):
            groups.setdefault(w.source, ([], []))
            groups[w.source][0].append(w)
            groups[w.source][1].append(lg)
        return ctx_of, groups

    # ---- the predict-output object (model/README.md)

    def predict(self, item: dict, utf16: bool = True) -> dict:
        text = item["text"]
        conv = utf16_index(text) if utf16 else (lambda i: i)
        result: dict = {"id": item["id"]}
        for head in self.head_for("sentiment"):
            p = self.classify([text], head)[0]
            labels = head.spec["labels"]
            result["sentiment"] = {
                "label": labels[int(np.argmax(p))],
                "scores": {label: float(v) for label, v in zip(labels, p)},
            }
        for head in self.head_for("entities"):
            t, probs = self.token_probs([text], head)[0]
            words = word_predictions(t, probs, head.spec.get("aggregation", "first")) if t.ids else []
            result["entities"] = [
                {"label": typ, "text": text[s:e], "start": conv(s), "end": conv(e), "score": sc}
                for typ, s, e, sc in bio_entities(words, head.spec["labels"])
            ]
        for head in self.head_for("answers"):
            answers = []
            qs = item.get("questions", [])
            for q, (score, s, e) in zip(qs, self.answer([(q, text) for q in qs], head)):
                if s < 0 or score < head.spec["no_answer_threshold"]:
                    answers.append({"question": q, "answer": None, "start": None, "end": None, "score": score})
                else:
                    answers.append(
                        {"question": q, "answer": text[s:e], "start": conv(s), "end": conv(e), "score": score}
                    )
            result["answers"] = answers
        cats = {}
        for head in self.head_for("categories"):
            p = self.classify([text], head)[0]
            order = np.argsort(-p, kind="stable")[: head.spec.get("top_k", 5)]
            cats[head.name] = [{"label": head.spec["labels"][k], "score": float(p[k])} for k in order]
        if cats:
            result["categories"] = cats
        return result


def utf16_index(text: str):
    """Maps a code-point index of `text` to its UTF-16 code-unit index."""
    table = [0]
    for ch in text:
        table.append(table[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return lambda i: table[i]
