"""Evaluation on the named splits through inference.Model, so fp32 (PyTorch) and int8 (ONNX Runtime)
share one code path: the encoder is the only thing that differs."""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from . import metrics
from .data import QAExample, Sentence
from .features import conll_text, length_buckets
from .inference import WINDOW_AGGREGATIONS, Model, aggregate_windows, word_predictions


def _bar(desc: str, total: int, show: bool):
    return tqdm(total=total, desc=desc, unit="win", leave=False, disable=not show, mininterval=5)


def eval_classification(model: Model, head_name: str, texts: list[str], gold: list[int], show: bool = False) -> dict:
    head = model.heads[head_name]
    with _bar(f"eval {head_name}", len(texts), show) as bar:
        probs = model.classify(texts, head, progress=bar)
    pred = probs.argmax(axis=1).tolist()
    return metrics.classification(gold, pred, head.spec["labels"])


def eval_documents(model: Model, head_name: str, texts: list[str], gold: list[int], show: bool = False) -> dict:
    """Classification of documents of any length: the head's own window aggregation reported whole and
    by length (`short` < 128 tokens, `long` > 400, `middle`), and every window aggregation's accuracy
    on the same windows (`aggregations`; one encoder pass), to choose between them."""
    head = model.heads[head_name]
    with _bar(f"eval {head_name} documents", len(texts), show) as bar:
        windows, logits = model.window_logits(texts, head, progress=bar)
    buckets = length_buckets(model.tokenizer, texts)
    own = head.spec.get("window_aggregation", WINDOW_AGGREGATIONS[0])
    out: dict = {}
    for how in WINDOW_AGGREGATIONS:
        pred = aggregate_windows(windows, logits, len(texts), how).argmax(axis=1).tolist()
        if how == own:
            out = metrics.classification(gold, pred, head.spec["labels"])
            out["window_aggregation"] = own
            out["by_length"] = {
                name: metrics.classification([gold[i] for i in idx], [pred[i] for i in idx], head.spec["labels"])
                for name, idx in buckets.items()
                if idx
            }
        out.setdefault("aggregations", {})[how] = {
            name: float(np.mean([pred[i] == gold[i] for i in idx])) if idx else None
            for name, idx in (("all", range(len(texts))), *buckets.items())
        }
    return out


def eval_entities(model: Model, head_name: str, sentences: list[Sentence], show: bool = False) -> dict:
    """Entity F1 over the CoNLL tokens: each token takes the label of the tokenizer word starting at
    its first character (the decoding of model/README.md, words aggregated by the head's rule)."""
    head = model.heads[head_name]
    labels = head.spec["labels"]
    texts, spans = zip(*(conll_text(s.tokens) for s in sentences))
    with _bar(f"eval {head_name}", len(texts), show) as bar:
        results = model.token_probs(list(texts), head, progress=bar)
    pred_tags = []
    for (t, probs), sp in zip(results, spans):
        by_start = {}
        if t.ids:
            for s, _e, k, _p in word_predictions(t, probs, head.spec.get("aggregation", "first")):
                by_start.setdefault(s, labels[k])
        pred_tags.append([by_start.get(s, "O") for s, _ in sp])
    return metrics.entity_f1([s.tags for s in sentences], pred_tags)


def eval_answers(model: Model, head_name: str, examples: list[QAExample], show: bool = False) -> dict:
    """SQuAD EM/F1 of the best span over all windows (v1.1 always has an answer, so the no-answer
    threshold is not applied here; the share of questions below it is reported)."""
    head = model.heads[head_name]
    with _bar(f"eval {head_name}", len(examples), show) as bar:
        results = model.answer([(ex.question, ex.context) for ex in examples], head, progress=bar)
    preds = [ex.context[s:e] if s >= 0 else "" for ex, (score, s, e) in zip(examples, results)]
    out = metrics.squad(preds, [ex.answers for ex in examples])
    thr = head.spec.get("no_answer_threshold", 0.0)
    out["below_no_answer_threshold"] = float(np.mean([r[0] < thr for r in results])) if results else 0.0
    return out


def headline(report: dict) -> dict:
    """The compact numbers that go into manifest.json."""
    out = {}
    for split, r in report.items():
        if "exact_match" in r:
            out[split] = {"exact_match": r["exact_match"], "f1": r["f1"], "questions": r["questions"]}
        elif "per_type" in r:
            out[split] = {
                "precision": r["precision"],
                "recall": r["recall"],
                "f1": r["f1"],
                "sentences": r["sentences"],
            }
        else:
            out[split] = {"accuracy": r["accuracy"], "macro_f1": r["macro_f1"], "examples": r["examples"]}
            # by review length (their sizes are in evaluation.json: the gate compares every number here)
            for name, b in r.get("by_length", {}).items():
                out[split][f"accuracy_{name}"] = b["accuracy"]
    return out
