"""Fits one temperature per head of an artifact on a calibration slice, writes a copy of the artifact
with the temperatures in its manifest, and reports ECE and the headline metrics before and after on
the reported dev splits (those of evaluate.py / train.py).

    PYTHONPATH=training training/.venv/bin/python -m trident_training.calibrate \\
        --artifact model/artifacts/trident-multitask-1.1.0 --out /tmp/calibrated [--slice 2000]

The calibration slice is never the reported dev split. Sentiment: IMDB train reviews the run did not
train on (outside imdb/dev-10pct), fitted on the texts' aggregated probabilities; reported on sst2/dev
and imdb/dev-10pct (by review length too). Where the artifact's `training.params` say part of a
training file was not trained on (a SQuAD seeded sample), the slice is drawn from that unseen part;
where all of it was trained on (CoNLL-2003 eng.train, banking77's 9,000 training rows) no unseen
labelled data exists here, the slice is training data, and the report says so.
The encoder runs once per split; every temperature is applied to the same stored logits.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import data as D
from . import metrics
from .calibration import ece_from_confidences, expected_calibration_error, fit_scalar, fit_temperature, softmax_t
from .export import write_json
from .features import char_to_tokens, conll_text, length_buckets, word_tags
from .inference import (
    DEFAULT_WINDOW_AGGREGATION,
    Head,
    Model,
    aggregate_windows,
    best_span,
    merge_token_probs,
    run_windows,
    word_vectors,
)
from .parity_fixture import fixture_metadata
from .paths import data_dir
from .text import TextTokens, text_windows, tokenize_batch

# Seed offset of the calibration samples, so they differ from train.py's seeded samples (seed).
SLICE_SEED_OFFSET = 101


# ------------------------------------------------------------------ slices


def unseen_indices(n_items: int, n_trained: int, seed: int) -> list[int]:
    """Indices train.py's `subset(items, n_trained, seed)` left out (its exact sampling); [] when it used all."""
    if not n_trained or n_trained >= n_items:
        return []
    used = set(random.Random(seed).sample(range(n_items), n_trained))
    return [i for i in range(n_items) if i not in used]


def pick(items: list, candidates: list[int], n: int, seed: int) -> list:
    """A seeded sample of n of `candidates` (all of them when fewer), in file order."""
    idx = sorted(random.Random(seed).sample(candidates, n)) if 0 < n < len(candidates) else list(candidates)
    return [items[i] for i in idx]


@dataclass
class Split:
    name: str
    items: list
    source: str  # what the items are, said plainly in the report
    trained_on: bool = False  # the artifact was trained on these items


@dataclass
class TaskData:
    calibration: Split
    dev: Split
    extra: dict = field(default_factory=dict)
    more_dev: list[Split] = field(default_factory=list)  # further reported splits of the same head


def task_data(params: dict, slice_size: int, dev_limit: int, root: Path) -> dict[str, TaskData]:
    """Calibration slice and reported dev split per task, from the artifact's training parameters."""
    seed = int(params.get("seed", 13))
    cal_seed = seed + SLICE_SEED_OFFSET

    def dev(items: list) -> list:
        return items[:dev_limit] if dev_limit else items

    def calibration(items: list, n_trained: int, file: str) -> Split:
        unseen = unseen_indices(len(items), n_trained, seed)
        if unseen:
            chosen = pick(items, unseen, slice_size, cal_seed)
            return Split(file, chosen, f"{len(chosen)} of the {len(unseen)} {file} examples not in the training sample")
        chosen = pick(items, list(range(len(items))), slice_size, cal_seed)
        why = "no unseen labelled data" if params else "the manifest has no training record"
        return Split(file, chosen, f"{len(chosen)} {file} examples that WERE trained on ({why})", trained_on=True)

    conll_train = D.read_conll(root / D.CONLL_TRAIN)
    squad_train = D.read_squad(root / D.SQUAD_TRAIN)
    bank_rows, bank_cats = D.read_banking77(root / D.BANKING_TRAIN, root / D.BANKING_CATEGORIES)
    bank_train, bank_val = D.stratified_split(bank_rows, float(params.get("banking77_val_fraction", 0.1)), seed)
    bank_trained = int(params.get("banking77_examples", 0)) or len(bank_train)
    imdb_train, imdb_dev = D.imdb_split(D.read_imdb(root / D.IMDB_TRAIN))
    # Sentiment: the IMDB train reviews the run did not train on (all of them for a run without
    # IMDB) — unseen labelled text even when all of SST-2 train was trained on, as for 1.2.0.
    imdb_trained = (
        int(params.get("imdb_examples", 0)) or len(imdb_train) if float(params.get("imdb_epochs", 0)) > 0 else 0
    )
    imdb_unseen = unseen_indices(len(imdb_train), imdb_trained, seed) if imdb_trained else list(range(len(imdb_train)))
    imdb_slice = pick(imdb_train, imdb_unseen, slice_size, cal_seed)
    return {
        "sentiment": TaskData(
            Split(
                D.IMDB_TRAIN,
                [(r.text, r.label) for r in imdb_slice],
                f"{len(imdb_slice)} of the {len(imdb_unseen)} {D.IMDB_TRAIN} reviews (minus imdb/dev-10pct) "
                "not in the training sample",
            ),
            Split("sst2/dev", dev(D.read_sst2(root / D.SST2_DEV)), D.SST2_DEV),
            more_dev=[
                Split("imdb/dev-10pct", dev([(r.text, r.label) for r in imdb_dev]), f"{D.IMDB_TRAIN} 10 % by id hash")
            ],
        ),
        "entities": TaskData(
            calibration(conll_train, int(params.get("conll_examples", 0)), D.CONLL_TRAIN),
            Split("conll2003/testa", dev(D.read_conll(root / D.CONLL_DEV)), D.CONLL_DEV),
        ),
        "answers": TaskData(
            calibration(squad_train, int(params.get("squad_examples", 0)), D.SQUAD_TRAIN),
            Split("squad_v1.1/dev-articles-00-31", dev(D.read_squad(root / D.SQUAD_DEV)), D.SQUAD_DEV),
        ),
        "banking77": TaskData(
            calibration(bank_train, bank_trained, "banking77/train.csv minus the validation split"),
            Split("banking77/validation", dev(bank_val), "banking77/train.csv stratified validation split"),
            {"categories": bank_cats},
        ),
    }


# ------------------------------------------------------------------ raw logits (temperature 1)


@dataclass
class WindowLogits:
    """A head's logits (before any temperature) for every window of some texts."""

    windows: list
    logits: np.ndarray  # [windows, labels] float64
    n_texts: int


def without_temperature(head: Head) -> Head:
    """The head as trained (temperature 1): what a temperature is fitted on."""
    return Head(head.name, {k: v for k, v in head.spec.items() if k != "temperature"}, head.tensors)


def classification_logits(model: Model, head: Head, texts: list[str]) -> WindowLogits:
    windows, logits = model.window_logits(texts, without_temperature(head))
    return WindowLogits(windows, np.stack(logits).astype(np.float64), len(texts))


def classification_probs(wl: WindowLogits, temperature: float, aggregation: str) -> np.ndarray:
    """Each text's probabilities at temperature T, its windows aggregated by the head's rule
    (model/README.md "Sentiment and categories"; inference.aggregate_windows)."""
    return aggregate_windows(wl.windows, list(wl.logits / temperature), wl.n_texts, aggregation)


def fit_text_temperature(wl: WindowLogits, gold: np.ndarray, aggregation: str) -> float:
    """T minimising the NLL of the texts' gold labels under the aggregated probabilities (what the
    runtime outputs), not of each window: a long review's windows need not all say its label."""

    def loss(t: float) -> float:
        p = classification_probs(wl, t, aggregation)
        return float(-np.mean(np.log(np.maximum(p[np.arange(len(gold)), gold], 1e-300))))

    return fit_scalar(loss)


def token_logits(model: Model, head: Head, texts: list[str]) -> list[tuple[TextTokens, np.ndarray]]:
    """[(tokens, [n_tokens, labels] logits from the window that sees each token best)] per text."""
    cls_id, sep_id = model.special
    L, S = model.manifest["max_length"], model.manifest["stride"]
    toks = tokenize_batch(model.tokenizer, texts)
    windows = []
    for i, t in enumerate(toks):
        windows += text_windows(t, L, S, cls_id, sep_id, source=i)
    per_window = run_windows(model.encoder, windows, model.with_case, lambda i, h: head.logits(h))
    by_text: dict[int, tuple[list, list]] = {}
    for w, lg in zip(windows, per_window):
        by_text.setdefault(w.source, ([], []))[0].append(w)
        by_text[w.source][1].append(lg)
    labels = len(head.spec["labels"])
    return [
        (t, merge_token_probs(*by_text[i], len(t.ids)) if t.ids else np.zeros((0, labels), np.float32))
        for i, t in enumerate(toks)
    ]


@dataclass
class EntityWords:
    """Per sentence: tokens, merged logits, the CoNLL token spans, and each tokenizer word's gold tag."""

    tokens: TextTokens
    logits: np.ndarray
    spans: list[tuple[int, int]]
    gold_by_word: dict[int, str]


def entity_words(model: Model, head: Head, sentences: list[D.Sentence]) -> list[EntityWords]:
    texts, spans = zip(*(conll_text(s.tokens) for s in sentences)) if sentences else ((), ())
    out = []
    for (t, lg), sp, s in zip(token_logits(model, head, list(texts)), spans, sentences):
        out.append(EntityWords(t, lg, sp, word_tags(t, sp, s.tags) if t.ids else {}))
    return out


def first_subtoken_rows(words: list[EntityWords], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Logits of each tokenizer word's first sub-token and its gold label index (what the fit uses)."""
    index = {label: k for k, label in enumerate(labels)}
    rows, gold = [], []
    for ew in words:
        seen = set()
        for i, w in enumerate(ew.tokens.word_ids):
            if w >= 0 and w not in seen:
                seen.add(w)
                rows.append(ew.logits[i])
                gold.append(index[ew.gold_by_word[w]])
    return np.array(rows, dtype=np.float64).reshape(-1, len(labels)), np.array(gold, dtype=np.int64)


def entity_eval(words: list[EntityWords], sentences: list[D.Sentence], head: Head, temperature: float) -> dict:
    """Entity F1 exactly as evaluate.eval_entities decodes it, and the words' top-label ECE."""
    labels = head.spec["labels"]
    aggregation = head.spec.get("aggregation", "first")
    conf, hit, pred_tags = [], [], []
    for ew in words:
        by_start: dict[int, str] = {}
        if ew.tokens.ids:
            probs = softmax_t(ew.logits, temperature)
            first_token = {}
            for i, w in enumerate(ew.tokens.word_ids):
                if w >= 0:
                    first_token.setdefault(w, i)
            for w, (start, _end, vec) in zip(sorted(first_token), word_vectors(ew.tokens, probs, aggregation)):
                k = int(np.argmax(vec))
                by_start.setdefault(start, labels[k])
                conf.append(float(vec[k]))
                hit.append(labels[k] == ew.gold_by_word[w])
        pred_tags.append([by_start.get(s, "O") for s, _ in ew.spans])
    f1 = metrics.entity_f1([s.tags for s in sentences], pred_tags)
    return {
        "f1": f1["f1"],
        "precision": f1["precision"],
        "recall": f1["recall"],
        "ece": ece_from_confidences(np.array(conf), np.array(hit)),
        "words": len(conf),
    }


def answer_logits(model: Model, head: Head, examples: list[D.QAExample]):
    """(context tokens per example, {example index: (windows, [seq, 2] logits before temperature)})."""
    return model.answer_windows([(ex.question, ex.context) for ex in examples], without_temperature(head))


def answer_fit_rows(ctx_of, groups, examples: list[D.QAExample]) -> tuple[np.ndarray, np.ndarray]:
    """Start rows then end rows (context logits, -inf padded) of every window holding the first gold
    answer, with the gold position: one shared T is fitted on both (the NLL of the gold start and end)."""
    starts, ends = [], []
    for i, ex in enumerate(examples):
        if i not in groups:
            continue
        s = ex.starts[0]
        a, b = char_to_tokens(ctx_of[i].offsets, s, s + len(ex.answers[0]))
        if a < 0:
            continue
        for w, lg in zip(*groups[i]):
            first, last = w.token_index[w.ctx_start], w.token_index[w.ctx_stop - 1]
            if first <= a and b <= last:
                starts.append((lg[w.ctx_start : w.ctx_stop, 0], a - first))
                ends.append((lg[w.ctx_start : w.ctx_stop, 1], b - first))
    rows = starts + ends
    width = max((len(r) for r, _ in rows), default=1)
    logits = np.full((len(rows), width), -np.inf)
    for j, (r, _) in enumerate(rows):
        logits[j, : len(r)] = r
    return logits, np.array([g for _, g in rows], dtype=np.int64)


def answer_eval(ctx_of, groups, examples: list[D.QAExample], head: Head, temperature: float) -> dict:
    """SQuAD EM/F1 of the best span over windows at temperature T (evaluate.eval_answers), ECE of the
    span score against exact match, and the share below the no-answer threshold."""
    preds, scores = [], []
    for i, ex in enumerate(examples):
        score, a, b = (0.0, -1, -1)
        if i in groups:
            ws, lgs = groups[i]
            score, a, b = best_span(ws, [lg / temperature for lg in lgs], head.spec["max_answer_tokens"])
        preds.append(ex.context[ctx_of[i].offsets[a][0] : ctx_of[i].offsets[b][1]] if a >= 0 else "")
        scores.append(score if a >= 0 else 0.0)
    out = metrics.squad(preds, [ex.answers for ex in examples])
    em = [max(metrics.squad_em(p, r) for r in ex.answers) for p, ex in zip(preds, examples)]
    out["ece"] = ece_from_confidences(np.array(scores), np.array(em))
    thr = head.spec.get("no_answer_threshold", 0.0)
    out["below_no_answer_threshold"] = float(np.mean([s < thr for s in scores])) if scores else 0.0
    return out


# ------------------------------------------------------------------ the command


def rounded(t: float) -> float:
    """Stored rounded so the manifest reads plainly; every "after" number uses the stored value."""
    return float(f"{t:.4g}")


def keep_if_better(entry: dict, slice_ece, fitted: float, trained_on: bool = False) -> float:
    """The fitted T when it lowers the ECE on the calibration slice itself, else 1 (no temperature):
    minimum NLL need not mean lower ECE (answers: T is fitted on the gold tokens' NLL, the ECE is of
    the span score), and the choice must not look at the reported dev split. Never kept when the
    slice was trained on: confidence on training data says nothing about unseen text (1.2.0's
    banking77: T 0.70 fitted on its training rows took the validation ECE from 0.027 to 0.045)."""
    before, after = float(slice_ece(1.0)), float(slice_ece(fitted))
    entry["fitted_temperature"] = fitted
    entry["calibration_slice_ece"] = {"before": before, "after": after}
    entry["kept"] = after < before and not trained_on
    if trained_on:
        entry["not_kept_because"] = "the calibration slice was trained on"
    return fitted if entry["kept"] else 1.0


def calibrate(artifact: Path, out: Path, slice_size: int, dev_limit: int = 0, threads: int = 2) -> dict:
    """Fits, writes `out` (a copy of `artifact` with temperatures) and returns the report."""
    model = Model.from_artifact(artifact, threads=threads)
    params = (model.manifest.get("training") or {}).get("params") or {}
    tasks = task_data(params, slice_size, dev_limit, data_dir())
    report: dict = {"artifact": str(artifact), "slice": slice_size, "dev_limit": dev_limit, "heads": {}}
    temperatures: dict[str, float] = {}
    started = time.time()

    for name, head in model.heads.items():
        task = head.spec["task"]
        key = name if task == "categories" else task
        if key not in tasks:
            report["heads"][name] = {"skipped": "no labelled data for this head here"}
            continue
        td = tasks[key]
        entry: dict = {"calibration": td.calibration.source, "dev": td.dev.name}
        if task in ("sentiment", "categories"):
            labels = head.spec["labels"]
            if task == "categories":
                index = {c: k for k, c in enumerate(labels)}
                missing = sorted({c for _, c in td.calibration.items + td.dev.items} - set(index))
                if missing:
                    report["heads"][name] = {"skipped": f"{len(missing)} categories of the data are not its labels"}
                    continue
                cal = [(t, index[c]) for t, c in td.calibration.items]
                dev = [(t, index[c]) for t, c in td.dev.items]
            else:
                cal, dev = td.calibration.items, td.dev.items
            how = head.spec.get("window_aggregation", DEFAULT_WINDOW_AGGREGATION)
            entry["window_aggregation"] = how
            cal_wl, cal_gold = classification_logits(model, head, [t for t, _ in cal]), np.array([g for _, g in cal])
            T = rounded(fit_text_temperature(cal_wl, cal_gold, how))
            T = keep_if_better(
                entry,
                lambda t, wl=cal_wl, g=cal_gold, how=how: expected_calibration_error(
                    classification_probs(wl, t, how), g
                ),
                T,
                td.calibration.trained_on,
            )
            for split in [td.dev, *td.more_dev]:
                items = dev if split is td.dev else split.items
                wl = classification_logits(model, head, [t for t, _ in items])
                gold = np.array([g for _, g in items])
                buckets = length_buckets(model.tokenizer, [t for t, _ in items]) if split is not td.dev else {}
                into = entry if split is td.dev else entry.setdefault("more_dev", {}).setdefault(split.name, {})
                for when, t in (("before", 1.0), ("after", T)):
                    p = classification_probs(wl, t, how)
                    into[when] = {
                        "accuracy": float(np.mean(p.argmax(axis=1) == gold)),
                        "ece": expected_calibration_error(p, gold),
                    }
                    for bucket, idx in buckets.items():
                        if idx:
                            into[when][f"ece_{bucket}"] = expected_calibration_error(p[idx], gold[idx])
                            into[when][f"accuracy_{bucket}"] = float(np.mean(p[idx].argmax(axis=1) == gold[idx]))
        elif task == "entities":
            words = entity_words(model, head, td.calibration.items)
            T = rounded(fit_temperature(*first_subtoken_rows(words, head.spec["labels"])))
            T = keep_if_better(
                entry,
                lambda t, w=words, items=td.calibration.items, h=head: entity_eval(w, items, h, t)["ece"],
                T,
                td.calibration.trained_on,
            )
            dev_words = entity_words(model, head, td.dev.items)
            for when, t in (("before", 1.0), ("after", T)):
                entry[when] = entity_eval(dev_words, td.dev.items, head, t)
        elif task == "answers":
            cal_ctx, cal_groups = answer_logits(model, head, td.calibration.items)
            T = rounded(fit_temperature(*answer_fit_rows(cal_ctx, cal_groups, td.calibration.items)))
            T = keep_if_better(
                entry,
                lambda t, c=cal_ctx, g=cal_groups, items=td.calibration.items, h=head: answer_eval(c, g, items, h, t)[
                    "ece"
                ],
                T,
                td.calibration.trained_on,
            )
            ctx_of, groups = answer_logits(model, head, td.dev.items)
            for when, t in (("before", 1.0), ("after", T)):
                entry[when] = answer_eval(ctx_of, groups, td.dev.items, head, t)
        entry["temperature"] = T
        if T != 1.0:
            temperatures[name] = T
        report["heads"][name] = entry
        print(json.dumps({name: entry}), flush=True)

    report["seconds"] = round(time.time() - started, 1)
    write_calibrated(artifact, out, temperatures, report, threads)
    return report


def write_calibrated(artifact: Path, out: Path, temperatures: dict[str, float], report: dict, threads: int = 2) -> None:
    """`out` = a copy of `artifact` whose manifest has the temperatures (the files it names are
    byte-identical), plus calibration.json (the report). parity.json's int8 expectations are rewritten
    with the temperatures (same inputs, this machine's int8 path); its fp32 ones are dropped, as they
    need the training checkpoint (`python -m trident_training.parity --artifact OUT --checkpoint PT`)."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(artifact, out)
    manifest = json.loads((artifact / "manifest.json").read_text(encoding="utf-8"))
    for name, t in temperatures.items():
        manifest["heads"][name]["temperature"] = t
    write_json(out / "manifest.json", manifest)
    write_json(out / "calibration.json", report)
    parity_file = out / "parity.json"
    if parity_file.is_file():
        parity = json.loads(parity_file.read_text(encoding="utf-8"))
        model = Model.from_artifact(out, threads=threads)
        inputs = parity["inputs"]
        parity["expected"] = {"int8": [model.predict(item) for item in inputs]}
        parity.update(fixture_metadata(model, inputs))
        write_json(parity_file, parity)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifact", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="folder for the calibrated copy (replaced)")
    ap.add_argument("--slice", type=int, default=2000, help="calibration examples per task (default 2000)")
    ap.add_argument("--dev-limit", type=int, default=0, help="first N of each dev split (0: all; for smoke runs)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if args.artifact.resolve() == args.out.resolve():
        raise SystemExit("--out must differ from --artifact")
    # --out is replaced: refuse anything but an empty folder or an earlier artifact copy.
    if args.out.exists() and any(args.out.iterdir()) and not (args.out / "manifest.json").is_file():
        raise SystemExit(f"--out {args.out} is a non-empty folder that is not an artifact; not replacing it")
    report = calibrate(args.artifact, args.out, args.slice, args.dev_limit, args.threads)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
