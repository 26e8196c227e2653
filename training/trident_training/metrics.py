"""Metrics with their standard definitions: classification (accuracy, per-class and macro P/R/F1,
confusion matrix), conlleval entity F1 (exact span and type), SQuAD v1.1 EM/F1 (official normalization)."""

from __future__ import annotations

import collections
import re
import string


def classification(gold: list[int], pred: list[int], labels: list[str]) -> dict:
    n = len(labels)
    cm = [[0] * n for _ in range(n)]  # cm[gold][pred]
    for g, p in zip(gold, pred):
        cm[g][p] += 1
    per = {}
    f1s = []
    for k, name in enumerate(labels):
        tp = cm[k][k]
        fp = sum(cm[g][k] for g in range(n)) - tp
        fn = sum(cm[k]) - tp
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[name] = {"precision": prec, "recall": rec, "f1": f1, "support": tp + fn}
        f1s.append(f1)
    correct = sum(cm[k][k] for k in range(n))
    return {
        "accuracy": correct / len(gold) if gold else 0.0,
        "macro_precision": sum(v["precision"] for v in per.values()) / n,
        "macro_recall": sum(v["recall"] for v in per.values()) / n,
        "macro_f1": sum(f1s) / n,
        "per_class": per,
        "confusion_matrix": {"labels": labels, "rows_gold_cols_pred": cm},
        "examples": len(gold),
    }


def bio_chunks(tags: list[str]) -> set[tuple[int, int, str]]:
    """(start, end_exclusive, type) chunks with conlleval's rules for a BIO(ish) tag sequence:
    B-X starts; I-X continues an open X chunk, otherwise starts one; O ends."""
    chunks = set()
    start, typ = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        if tag == "O":
            prefix, t = "O", None
        else:
            prefix, t = tag.split("-", 1)
        starts_new = prefix == "B" or (prefix == "I" and typ != t)
        ends_open = typ is not None and (prefix == "O" or starts_new)
        if ends_open:
            chunks.add((start, i, typ))
            start, typ = None, None
        if starts_new:
            start, typ = i, t
    return chunks


def entity_f1(gold: list[list[str]], pred: list[list[str]]) -> dict:
    """Micro precision/recall/F1 over exact (span, type) chunks, plus per type (conlleval)."""
    tp = collections.Counter()
    n_gold = collections.Counter()
    n_pred = collections.Counter()
    for g, p in zip(gold, pred):
        gc, pc = bio_chunks(g), bio_chunks(p)
        for c in gc:
            n_gold[c[2]] += 1
        for c in pc:
            n_pred[c[2]] += 1
        for c in gc & pc:
            tp[c[2]] += 1

    def prf(t, ng, np_):
        prec = t / np_ if np_ else 0.0
        rec = t / ng if ng else 0.0
        return {"precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0}

    out = prf(sum(tp.values()), sum(n_gold.values()), sum(n_pred.values()))
    out["per_type"] = {
        t: dict(prf(tp[t], n_gold[t], n_pred[t]), support=n_gold[t]) for t in sorted(set(n_gold) | set(n_pred))
    }
    correct_tokens = sum(a == b for g, p in zip(gold, pred) for a, b in zip(g, p))
    out["token_accuracy"] = correct_tokens / max(1, sum(len(g) for g in gold))
    out["sentences"] = len(gold)
    return out


# SQuAD v1.1 official evaluation script semantics.


def normalize_answer(s: str) -> str:
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def squad_f1(prediction: str, truth: str) -> float:
    p = normalize_answer(prediction).split()
    t = normalize_answer(truth).split()
    common = collections.Counter(p) & collections.Counter(t)
    same = sum(common.values())
    if same == 0:
        return 0.0
    prec = same / len(p)
    rec = same / len(t)
    return 2 * prec * rec / (prec + rec)


def squad_em(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def squad(predictions: list[str], answers: list[list[str]]) -> dict:
    """EM and F1 as fractions (the official script prints them x100), each the max over the reference
    answers, averaged over questions."""
    em = f1 = 0.0
    for p, refs in zip(predictions, answers):
        em += max(squad_em(p, r) for r in refs)
        f1 += max(squad_f1(p, r) for r in refs)
    n = max(1, len(predictions))
    return {"exact_match": em / n, "f1": f1 / n, "questions": len(predictions)}
