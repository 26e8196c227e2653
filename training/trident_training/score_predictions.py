"""Scores a predictions.jsonl written by `trident eval` / `trident replay` with this package's metrics
(the training-time reference), so the TypeScript evaluator can be checked against it on the same
predictions. Standard library only: runs without the training virtual environment.

    python -m trident_training.score_predictions predictions.jsonl --labels MODEL=ARTIFACT_DIR ...

Prints {"<model>": {"<task>": {...}}} with the keys report.json uses. Entity spans are turned into
character-level BIO tags, so metrics.entity_f1 (conlleval chunks) scores exact (start, end, type)
matches — the same definition as the TypeScript side's span matching.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

from . import metrics


def span_tags(spans: list[dict], length: int) -> list[str]:
    tags = ["O"] * length
    for s in sorted(spans, key=lambda s: (s["start"], s["end"])):
        tags[s["start"]] = "B-" + s["label"]
        for i in range(s["start"] + 1, s["end"]):
            tags[i] = "I-" + s["label"]
    return tags


def ece(confidence: list[float], correct: list[bool], bins: int = 15) -> float:
    """Expected calibration error over equal-width bins (b/B, (b+1)/B]; 0 falls in the first bin."""
    n = [0] * bins
    conf = [0.0] * bins
    acc = [0] * bins
    for c, ok in zip(confidence, correct):
        b = min(bins - 1, max(0, math.ceil(c * bins) - 1))
        n[b] += 1
        conf[b] += c
        acc[b] += int(ok)
    total = len(confidence)
    return sum(n[b] / total * abs(acc[b] / n[b] - conf[b] / n[b]) for b in range(bins) if n[b]) if total else 0.0


def head_labels(artifact: Path) -> tuple[dict[str, list[str]], list[str]]:
    manifest = json.loads((artifact / "manifest.json").read_text())
    heads = manifest["heads"]
    cat_heads = [name for name, h in heads.items() if h["task"] == "categories"]
    labels = {}
    for name, h in heads.items():
        if h["task"] == "sentiment":
            labels["sentiment"] = list(h["labels"])
        if h["task"] == "categories":
            labels["categories" if len(cat_heads) == 1 else f"categories:{name}"] = list(h["labels"])
    return labels, cat_heads


def score(lines: list[dict], labels: dict[str, list[str]], cat_heads: list[str]) -> dict:
    cls = defaultdict(lambda: {"gold": [], "pred": [], "conf": []})
    ents = {"gold": [], "pred": [], "conf": [], "ok": []}
    qa = {"pred": [], "refs": [], "conf": [], "ok": []}
    for line in lines:
        gold, out = line.get("gold"), line.get("output")
        if not gold or not out:
            continue
        if "sentiment" in gold and out.get("sentiment"):
            s = out["sentiment"]
            cls["sentiment"]["gold"].append(gold["sentiment"])
            cls["sentiment"]["pred"].append(s["label"])
            cls["sentiment"]["conf"].append(s["scores"].get(s["label"], 0.0))
        for head, label in (gold.get("categories") or {}).items():
            head = cat_heads[0] if head == "" and len(cat_heads) == 1 else head
            top = (out.get("categories") or {}).get(head) or []
            if not top:
                continue
            key = "categories" if len(cat_heads) == 1 and cat_heads[0] == head else f"categories:{head}"
            cls[key]["gold"].append(label)
            cls[key]["pred"].append(top[0]["label"])
            cls[key]["conf"].append(top[0]["score"])
        if "entities" in gold and out.get("entities") is not None:
            pred = out["entities"]
            length = max([s["end"] for s in gold["entities"] + pred] + [0])
            ents["gold"].append(span_tags(gold["entities"], length))
            ents["pred"].append(span_tags(pred, length))
            gold_keys = {(s["start"], s["end"], s["label"]) for s in gold["entities"]}
            for e in pred:
                ents["conf"].append(min(1.0, max(0.0, e["score"])))
                ents["ok"].append((e["start"], e["end"], e["label"]) in gold_keys)
        for question, refs in (gold.get("answers") or {}).items():
            answer = next((a for a in out.get("answers") or [] if a["question"] == question), None)
            if answer is None:
                continue
            p = answer["answer"] or ""
            qa["pred"].append(p)
            qa["refs"].append(refs)
            qa["conf"].append(min(1.0, max(0.0, answer["score"])))
            qa["ok"].append(max(metrics.squad_em(p, r) for r in refs) == 1.0)

    result = {}
    for task, d in sorted(cls.items()):
        names = list(labels.get(task, []))
        for label in d["gold"] + d["pred"]:
            if label not in names:
                names.append(label)
        index = {name: i for i, name in enumerate(names)}
        m = metrics.classification([index[g] for g in d["gold"]], [index[p] for p in d["pred"]], names)
        result[task] = {
            "n": m["examples"],
            "accuracy": m["accuracy"],
            "macro_f1": m["macro_f1"],
            "macro_precision": m["macro_precision"],
            "macro_recall": m["macro_recall"],
            "per_label": {k: v for k, v in m["per_class"].items()},
            "confusion": {"labels": names, "matrix": m["confusion_matrix"]["rows_gold_cols_pred"]},
            "ece": ece(d["conf"], [g == p for g, p in zip(d["gold"], d["pred"])]),
        }
    if ents["gold"]:
        m = metrics.entity_f1(ents["gold"], ents["pred"])
        result["entities"] = {
            "n": m["sentences"],
            "precision": m["precision"],
            "recall": m["recall"],
            "f1": m["f1"],
            "per_type": m["per_type"],
            "ece": ece(ents["conf"], ents["ok"]),
        }
    if qa["pred"]:
        m = metrics.squad(qa["pred"], qa["refs"])
        result["answers"] = {
            "n": m["questions"],
            "exact_match": m["exact_match"],
            "f1": m["f1"],
            "ece": ece(qa["conf"], qa["ok"]),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("predictions", type=Path)
    parser.add_argument(
        "--labels",
        action="append",
        default=[],
        metavar="MODEL=ARTIFACT_DIR",
        help="the artifact of a model key, for its label order (repeatable)",
    )
    args = parser.parse_args(argv)
    artifacts = dict(item.split("=", 1) for item in args.labels)
    by_model = defaultdict(list)
    for raw in args.predictions.read_text().splitlines():
        if raw.strip():
            line = json.loads(raw)
            by_model[line["model"]].append(line)
    out = {}
    for model, lines in by_model.items():
        if model not in artifacts:
            parser.error(f"no --labels {model}=ARTIFACT_DIR")
        labels, cat_heads = head_labels(Path(artifacts[model]))
        out[model] = score(lines, labels, cat_heads)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
