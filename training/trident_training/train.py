"""The whole recipe: data -> multitask training -> evaluate -> export -> int8 -> evaluate int8 -> artifact.

    python -m trident_training.train [--options]     (npm run train)

Resumable: a checkpoint is written every few minutes under ~/.cache/trident/training/<run>/
(paths.checkpoint_dir; outside the work tree); running the
same command again continues from it (the batch plan is a pure function of the seed, so the run
skips the batches already done). Tracking goes to MLflow's local file store, training/mlruns/.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from . import data as D
from .evaluate import eval_answers, eval_classification, eval_documents, eval_entities, headline
from .export import PARITY_INPUTS, QUANTIZATIONS, head_manifest, write_artifact, write_json, write_profile
from .features import IGNORE, classification_features, document_features, entity_features, qa_features
from .inference import WINDOW_AGGREGATIONS, Head, Model, TorchEncoder
from .modeling import MultitaskModel, load_base, tiny_bert
from .paths import REPO_ROOT, TRAINING_DIR, base_model_dir, checkpoint_dir, data_dir
from .text import load_tokenizer, pad_batch

# IMDB last: adding it left the other tasks' batch plans (a pure function of the seed) unchanged.
TASKS = ("sst2", "conll", "squad", "banking77", "imdb")
HEAD_OF = {"sst2": "sentiment", "conll": "entities", "squad": "answers", "banking77": "banking77", "imdb": "sentiment"}
SPLIT_NAMES = {
    "sst2": "sst2/dev",
    "conll": "conll2003/testa",
    "squad": "squad_v1.1/dev-articles-00-31",
    "banking77": "banking77/validation",
    "imdb": "imdb/dev-10pct",
}


@dataclass
class Config:
    name: str = "trident-multitask"
    version: str = "1.2.0"  # the next release; the released ones are never overwritten by default
    out: str = ""  # default model/artifacts/<name>-<version>
    base: str = "minilm"  # or "tiny" (random 2-layer BERT, for the smoke test)
    seed: int = 13
    threads: int = 2
    casing: bool = True
    max_length: int = 256
    stride: int = 64
    max_question_tokens: int = 64
    max_answer_tokens: int = 30
    no_answer_threshold: float = 0.05
    # Training examples per task (0 = all) and epochs over them.
    sst2_examples: int = 0
    conll_examples: int = 0
    squad_examples: int = 0
    banking77_examples: int = 0
    # IMDB train reviews (after holding back imdb/dev-10pct) for the sentiment head, windowed as
    # inference windows them, each window with its review's label; 0 epochs = not used.
    imdb_examples: int = 0
    imdb_epochs: float = 0.0
    imdb_max_windows: int = 2  # windows kept per review in training (first and last, evenly between)
    imdb_batch_size: int = 16
    sst2_epochs: float = 1.0
    conll_epochs: float = 1.0
    squad_epochs: float = 1.0
    banking77_epochs: float = 1.0
    banking77_val_fraction: float = 0.1
    batch_size: int = 32
    squad_batch_size: int = 16
    # How the tasks' batches are ordered: "round-robin" (one batch of each task in turn while it has
    # any) or "sized" (all shuffled together, so each task is seen in proportion to its batches).
    # Measured (training/results/ablation-mixing.json): round-robin +10.6 SQuAD F1 and +4.1 banking77
    # accuracy over sized, two seeds, a 502-batch budget. Releases 1.0.0 and 1.1.0 used "sized".
    mixing: str = "round-robin"
    # Tasks (comma-separated) whose batches are instead spread evenly over the whole run, after the
    # mixing has ordered the others: a small task that would run out early in round-robin keeps
    # reaching its head until the end (IMDB: otherwise the sentiment head ends on SST-2 sentences alone).
    spread_tasks: str = ""
    lr: float = 1e-4
    warmup: float = 0.06
    weight_decay: float = 0.01
    hidden_dropout: float = 0.1
    # Evaluation: examples of each dev split (0 = all) for the final and the intermediate evaluations.
    final_eval_limit: int = 0
    mid_evals: int = 2
    mid_eval_limit: int = 400
    checkpoint_minutes: float = 5.0
    run_dir: str = ""  # default training/runs/<name>-<version>
    checkpoint_dir: str = ""  # default paths.checkpoint_dir: ~/.cache/trident/training/<name>-<version>
    mlflow: bool = True
    # Stop training at the loaded checkpoint and go straight to evaluation and export (a fallback when
    # time runs out; the manifest records steps done vs planned).
    finish_now: bool = False
    # Encoder int8: "dynamic" (scales per batch tensor, so outputs depend on the batch) or "static"
    # (QDQ calibrated on this many training texts of each task; outputs depend on the input alone, so
    # the runtime batches mixed inputs by default). See quantize_static.py.
    quantization: str = "dynamic"
    calibration_per_dataset: int = 100
    # How the sentiment head turns a long text's window outputs into one answer (the manifest's
    # `window_aggregation`, model/README.md), or "auto": after training, the one with the best
    # accuracy (fp32) on `aggregation_slice` IMDB train reviews the run did not train on (neither
    # trained on nor the reported dev split); the measurements go into the manifest.
    window_aggregation: str = "mean-probabilities"
    aggregation_slice: int = 1000
    # Stop after the final checkpoint, without evaluating or exporting; the same command run again
    # evaluates and exports from it (so evaluation code can change while a long run trains).
    train_only: bool = False
    # Stop this process after that many batches (checkpointed, nothing evaluated or exported); the
    # same command run again resumes. For a run split over sittings, and for the resume test.
    stop_after_steps: int = 0


# Settings that do not change what is trained; a checkpoint can be resumed with other values.
# Settings added after checkpoints existed, with the value those checkpoints were trained with.
SETTINGS_BEFORE_THEY_EXISTED = {
    "mixing": "sized",
    "spread_tasks": "",
    "imdb_examples": 0,
    "imdb_epochs": 0.0,
    "imdb_max_windows": 2,
    "imdb_batch_size": 16,
}

RUNTIME_ONLY = {
    "out",
    "run_dir",
    "checkpoint_dir",
    "threads",
    "mlflow",
    "final_eval_limit",
    "mid_eval_limit",
    "mid_evals",
    "checkpoint_minutes",
    "finish_now",
    "quantization",
    "calibration_per_dataset",
    "window_aggregation",
    "aggregation_slice",
    "train_only",
    "stop_after_steps",
}


def parse_args(argv=None) -> Config:
    p = argparse.ArgumentParser(description="Trident multitask recipe")
    for f in dataclasses.fields(Config):
        kind = f.type if not isinstance(f.type, str) else {"str": str, "int": int, "float": float, "bool": bool}[f.type]
        if kind is bool:
            p.add_argument(
                f"--{f.name.replace('_', '-')}", type=lambda s: s.lower() in ("1", "true", "yes"), default=f.default
            )
        else:
            p.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=f.default)
    cfg = Config(**vars(p.parse_args(argv)))
    if cfg.window_aggregation not in (*WINDOW_AGGREGATIONS, "auto"):
        p.error(
            f"--window-aggregation must be auto or one of {', '.join(WINDOW_AGGREGATIONS)}, "
            f"got {cfg.window_aggregation!r}"
        )
    if cfg.quantization not in QUANTIZATIONS:  # fail at start, not after hours of training
        p.error(f"--quantization must be one of {', '.join(QUANTIZATIONS)}, got {cfg.quantization!r}")
    return cfg


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except Exception:
        return "unknown"


# ------------------------------------------------------------------ data


def subset(items: list, n: int, seed: int) -> list:
    if not n or n >= len(items):
        return list(items)
    rng = random.Random(seed)
    idx = sorted(rng.sample(range(len(items)), n))
    return [items[i] for i in idx]


def load_data(cfg: Config):
    root = data_dir()
    if not root.is_dir():
        raise SystemExit(f"data directory {root} not found (set TRIDENT_DATA_DIR)")
    sst_train = D.read_sst2(root / D.SST2_TRAIN)
    sst_dev = D.read_sst2(root / D.SST2_DEV)
    conll_train = D.read_conll(root / D.CONLL_TRAIN)
    conll_dev = D.read_conll(root / D.CONLL_DEV)
    squad_train = D.read_squad(root / D.SQUAD_TRAIN)
    squad_dev = D.read_squad(root / D.SQUAD_DEV)
    bank_rows, bank_cats = D.read_banking77(root / D.BANKING_TRAIN, root / D.BANKING_CATEGORIES)
    bank_train, bank_val = D.stratified_split(bank_rows, cfg.banking77_val_fraction, cfg.seed)
    imdb_rows = D.read_imdb(root / D.IMDB_TRAIN)
    imdb_train, imdb_dev = D.imdb_split(imdb_rows)
    imdb_used = subset(imdb_train, cfg.imdb_examples, cfg.seed) if cfg.imdb_epochs > 0 else []
    used = {
        "sst2": subset(sst_train, cfg.sst2_examples, cfg.seed),
        "conll": subset(conll_train, cfg.conll_examples, cfg.seed),
        "squad": subset(squad_train, cfg.squad_examples, cfg.seed),
        "banking77": subset(bank_train, cfg.banking77_examples, cfg.seed),
        "imdb": imdb_used,
    }
    dev = {"sst2": sst_dev, "conll": conll_dev, "squad": squad_dev, "banking77": bank_val, "imdb": imdb_dev}
    # IMDB train reviews the run did not train on: a slice for choices made after training (window
    # aggregation, calibration) that is neither trained on nor the reported dev split.
    in_training = {r.id for r in imdb_used}
    dev["imdb_unused_train"] = [r for r in imdb_train if r.id not in in_training]
    provenance = [
        {
            "path": D.SST2_TRAIN,
            "sha256": D.file_sha256(root / D.SST2_TRAIN),
            "examples": len(sst_train),
            "used": f"train: {len(used['sst2'])} sentences (seeded sample), {cfg.sst2_epochs} epochs",
        },
        {
            "path": D.SST2_DEV,
            "sha256": D.file_sha256(root / D.SST2_DEV),
            "examples": len(sst_dev),
            "used": "evaluation (sst2/dev)",
        },
        {
            "path": D.CONLL_TRAIN,
            "sha256": D.file_sha256(root / D.CONLL_TRAIN),
            "examples": len(conll_train),
            "used": f"train: {len(used['conll'])} sentences, IOB1->BIO, {cfg.conll_epochs} epochs",
        },
        {
            "path": D.CONLL_DEV,
            "sha256": D.file_sha256(root / D.CONLL_DEV),
            "examples": len(conll_dev),
            "used": "evaluation (conll2003/testa)",
        },
        {
            "path": D.SQUAD_TRAIN,
            "sha256": D.file_sha256(root / D.SQUAD_TRAIN),
            "examples": len(squad_train),
            "used": f"train: {len(used['squad'])} questions (seeded sample), {cfg.squad_epochs} epochs",
        },
        {
            "path": D.SQUAD_DEV,
            "sha256": D.file_sha256(root / D.SQUAD_DEV),
            "examples": len(squad_dev),
            "used": "evaluation (squad_v1.1/dev-articles-00-31)",
        },
        {
            "path": D.BANKING_TRAIN,
            "sha256": D.file_sha256(root / D.BANKING_TRAIN),
            "examples": len(bank_rows),
            "used": f"stratified split seed {cfg.seed}: {len(bank_train)} train ({len(used['banking77'])} used, "
            f"{cfg.banking77_epochs} epochs) / {len(bank_val)} validation (banking77/validation)",
        },
        {
            "path": D.BANKING_CATEGORIES,
            "sha256": D.file_sha256(root / D.BANKING_CATEGORIES),
            "examples": len(bank_cats),
            "used": "label names",
        },
        {
            "path": D.IMDB_TRAIN,
            "sha256": D.file_sha256(root / D.IMDB_TRAIN),
            "examples": len(imdb_rows),
            "used": f"split by id hash: {len(imdb_train)} train ({len(imdb_used)} reviews used, at most "
            f"{cfg.imdb_max_windows} windows each, {cfg.imdb_epochs} epochs, sentiment head) / {len(imdb_dev)} "
            "dev (imdb/dev-10pct)",
        },
    ]
    return used, dev, bank_cats, provenance


def head_specs(bank_cats: list[str]) -> dict:
    return {
        "sentiment": ("sentiment", D.SST2_LABELS),
        "entities": ("entities", D.ENTITY_LABELS),
        "answers": ("answers", ["start", "end"]),
        "banking77": ("categories", list(bank_cats)),
    }


def head_extra(cfg: Config, window_aggregation: str | None = None) -> dict:
    sentiment = {"window_aggregation": window_aggregation} if window_aggregation else {}
    return {
        "sentiment": sentiment,
        "entities": {"aggregation": "first"},
        "answers": {
            "max_answer_tokens": cfg.max_answer_tokens,
            "no_answer_threshold": cfg.no_answer_threshold,
            "max_question_tokens": cfg.max_question_tokens,
        },
        "banking77": {"top_k": 5},
    }


def build_features(cfg: Config, tok, used: dict, bank_cats: list[str]) -> dict:
    cat_id = {c: i for i, c in enumerate(bank_cats)}
    L, S = cfg.max_length, cfg.stride
    feats = {
        "sst2": classification_features(tok, [t for t, _ in used["sst2"]], [y for _, y in used["sst2"]], L, S),
        "conll": entity_features(tok, used["conll"], L, S),
        "banking77": classification_features(
            tok, [t for t, _ in used["banking77"]], [cat_id[c] for _, c in used["banking77"]], L, S
        ),
    }
    imdb = used["imdb"]
    feats["imdb"] = document_features(tok, [r.text for r in imdb], [r.label for r in imdb], L, S, cfg.imdb_max_windows)
    feats["squad"], dropped = qa_features(tok, used["squad"], L, S, cfg.max_question_tokens)
    if dropped:
        print(f"squad: {dropped} answers not found in their context tokens, skipped", file=sys.stderr)
    return feats


# ------------------------------------------------------------------ batches


def batch_plan(cfg: Config, feats: dict) -> list[tuple[str, list[int]]]:
    """All batches of the run, a pure function of the seed.

    Per task and epoch: shuffle, then sort by length inside chunks of 50 batches (length buckets,
    little padding), cut into batches. With mixing "sized" the batches of all tasks are then shuffled
    together, so each task is seen in proportion to its number of batches; with "round-robin" each
    task's batches are shuffled and the tasks take turns, one batch each, until each runs out.
    """
    if cfg.mixing not in ("sized", "round-robin"):
        raise SystemExit(f"--mixing: expected sized or round-robin, got {cfg.mixing!r}")
    rng = random.Random(cfg.seed)
    plan = []
    for task in TASKS:
        n = len(feats.get(task, []))
        if n == 0:
            continue
        bs = {"squad": cfg.squad_batch_size, "imdb": cfg.imdb_batch_size}.get(task, cfg.batch_size)
        epochs = getattr(cfg, f"{task}_epochs")
        total = int(round(n * epochs))
        order: list[int] = []
        while len(order) < total:
            idx = list(range(n))
            rng.shuffle(idx)
            order += idx
        order = order[:total]
        chunk = bs * 50
        for c in range(0, len(order), chunk):
            part = sorted(order[c : c + chunk], key=lambda i: len(feats[task][i].window.input_ids))
            for b in range(0, len(part), bs):
                plan.append((task, part[b : b + bs]))
    spread = [t for t in cfg.spread_tasks.split(",") if t]
    unknown = [t for t in spread if t not in TASKS]
    if unknown:
        raise SystemExit(f"--spread-tasks: unknown task(s) {', '.join(unknown)}; tasks are {', '.join(TASKS)}")
    spread_batches = {t: [p for p in plan if p[0] == t] for t in spread}
    plan = [p for p in plan if p[0] not in spread_batches]
    if cfg.mixing == "round-robin":
        queues = []
        for task in TASKS:
            mine = [p for p in plan if p[0] == task]
            rng.shuffle(mine)
            if mine:
                queues.append(mine)
        plan = []
        for turn in range(max((len(q) for q in queues), default=0)):
            plan += [q[turn] for q in queues if turn < len(q)]
    else:
        rng.shuffle(plan)
    for task in spread:
        mine = spread_batches[task]
        rng.shuffle(mine)
        plan = spread_evenly(plan, mine)
    return plan


def spread_evenly(plan: list, extra: list) -> list:
    """`plan` with the batches of `extra` placed at evenly spaced positions: batch k of n goes
    after (k + 0.5) / n of `plan` (the order inside each list is kept)."""
    out, pos = [], 0
    for k, item in enumerate(extra):
        cut = int((k + 0.5) * len(plan) / len(extra))
        out += plan[pos:cut]
        out.append(item)
        pos = cut
    return out + plan[pos:]


def collate(task: str, feats: list, with_case: bool) -> dict:
    wins = [f.window for f in feats]
    batch = {k: torch.from_numpy(v) for k, v in pad_batch(wins, with_case).items()}
    seq = batch["input_ids"].shape[1]
    if task == "conll":
        labels = torch.full((len(feats), seq), IGNORE, dtype=torch.long)
        for i, f in enumerate(feats):
            labels[i, : len(f.label)] = torch.tensor(f.label)
        batch["labels"] = labels
    elif task == "squad":
        ctx = torch.zeros((len(feats), seq), dtype=torch.bool)
        for i, f in enumerate(feats):
            ctx[i, f.window.ctx_start : f.window.ctx_stop] = True
        batch["context_mask"] = ctx
        batch["labels"] = torch.tensor([f.label for f in feats], dtype=torch.long)
    else:
        batch["labels"] = torch.tensor([f.label for f in feats], dtype=torch.long)
    return batch


def task_loss(task: str, logits: torch.Tensor, batch: dict) -> torch.Tensor:
    ce = nn.functional.cross_entropy
    if task == "conll":
        return ce(logits.reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1), ignore_index=IGNORE)
    if task == "squad":
        # Same masking as decoding: only context tokens can be start or end.
        masked = logits.masked_fill(~batch["context_mask"].unsqueeze(-1), -1e4)
        return (ce(masked[..., 0], batch["labels"][:, 0]) + ce(masked[..., 1], batch["labels"][:, 1])) / 2
    return ce(logits, batch["labels"])


# ------------------------------------------------------------------ evaluation


def numpy_model(cfg: Config, model: MultitaskModel, tok, encoder=None) -> Model:
    """The in-training model as an inference.Model (fp32 torch encoder, numpy heads)."""
    extra = head_extra(cfg)
    heads = {}
    for name, (task, labels) in model.head_specs.items():
        spec = head_manifest(name, task, labels, "", extra.get(name, {}))
        tensors = {k: v.detach().float().numpy().copy() for k, v in model.heads[name].state_dict().items()}
        heads[name] = Head(name, spec, tensors)
    manifest = {
        "max_length": cfg.max_length,
        "stride": cfg.stride,
        "casing": {"input": "case_ids", "classes": 5} if cfg.casing else None,
    }
    return Model(manifest, tok, heads, encoder or TorchEncoder(model.encoder))


def evaluate_all(m: Model, dev: dict, limit: int, show: bool = False) -> dict:
    def lim(items):
        return items[:limit] if limit else items

    sst = lim(dev["sst2"])
    bank = lim(dev["banking77"])
    imdb = lim(dev["imdb"])
    cat_id = {c: i for i, c in enumerate(m.heads["banking77"].spec["labels"])}
    return {
        SPLIT_NAMES["sst2"]: eval_classification(m, "sentiment", [t for t, _ in sst], [y for _, y in sst], show),
        SPLIT_NAMES["conll"]: eval_entities(m, "entities", lim(dev["conll"]), show),
        SPLIT_NAMES["squad"]: eval_answers(m, "answers", lim(dev["squad"]), show),
        SPLIT_NAMES["banking77"]: eval_classification(
            m, "banking77", [t for t, _ in bank], [cat_id[c] for _, c in bank], show
        ),
        SPLIT_NAMES["imdb"]: eval_documents(m, "sentiment", [r.text for r in imdb], [r.label for r in imdb], show),
    }


def choose_window_aggregation(cfg: Config, m: Model, reviews: list) -> dict:
    """Accuracy of every window aggregation on a seeded sample of `reviews` (whole and by length),
    and the best one (ties: the earlier of WINDOW_AGGREGATIONS, the plainer rule)."""
    sample = subset(reviews, cfg.aggregation_slice, cfg.seed + 211)
    report = eval_documents(m, "sentiment", [r.text for r in sample], [r.label for r in sample])
    accuracy = {how: v["all"] for how, v in report["aggregations"].items()}
    best = max(WINDOW_AGGREGATIONS, key=lambda how: (accuracy[how], -WINDOW_AGGREGATIONS.index(how)))
    return {
        "chosen": best,
        "slice": f"{len(sample)} IMDB train reviews not trained on (seeded sample), fp32",
        "accuracy": report["aggregations"],
        "examples_by_length": {name: b["examples"] for name, b in report["by_length"].items()},
    }


def flat_metrics(prefix: str, report: dict) -> dict:
    out = {}
    for split, values in headline(report).items():
        for k, v in values.items():
            if isinstance(v, float):
                out[f"{prefix}.{split.replace('/', '.')}.{k}"] = v
    return out


# ------------------------------------------------------------------ tracking


class Tracker:
    """MLflow local file store (training/mlruns/), or nothing when disabled."""

    def __init__(self, cfg: Config, run_id: str | None):
        self.on = cfg.mlflow
        self.run_id = run_id
        if not self.on:
            return
        # The local file store (what the issue asks for) is in "maintenance mode" in MLflow 3; the
        # database backends need SQLAlchemy, which mlflow-skinny does not bring.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        import mlflow

        self.mlflow = mlflow
        mlflow.set_tracking_uri((TRAINING_DIR / "mlruns").resolve().as_uri())
        mlflow.set_experiment("trident-multitask")
        run = mlflow.start_run(run_id=run_id, run_name=f"{cfg.name}-{cfg.version}")
        self.run_id = run.info.run_id
        if run_id is None:
            mlflow.log_params({k: v for k, v in dataclasses.asdict(cfg).items()})

    def metrics(self, values: dict, step: int) -> None:
        if self.on:
            self.mlflow.log_metrics(values, step=step)

    def artifacts(self, folder: Path) -> None:
        if self.on:
            self.mlflow.log_artifacts(str(folder), artifact_path="artifact")

    def end(self) -> None:
        if self.on:
            self.mlflow.end_run()


# ------------------------------------------------------------------ main


@dataclasses.dataclass
class TrainState:
    """What the loop changes and a checkpoint saves: the model, its optimiser and schedule, progress."""

    model: MultitaskModel
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    step: int = 0
    # Seconds trained before this process (a resumed run), and when this process started training.
    elapsed: float = 0.0
    started: float = dataclasses.field(default_factory=time.time)
    mlflow_run_id: str | None = None

    def seconds(self) -> float:
        return self.elapsed + time.time() - self.started

    def save(self, cfg: Config, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        torch.save(
            {
                "model": self.model.state_dict(),
                "opt": self.opt.state_dict(),
                "sched": self.sched.state_dict(),
                "rng": torch.get_rng_state(),
                "step": self.step,
                "elapsed": self.seconds(),
                "config": dataclasses.asdict(cfg),
                "mlflow_run_id": self.mlflow_run_id,
            },
            tmp,
        )
        os.replace(tmp, path)


def new_state(cfg: Config, model: MultitaskModel, total: int) -> TrainState:
    """AdamW (no decay on biases, LayerNorm and case embeddings), linear warm-up then linear decay."""
    no_decay = ("bias", "LayerNorm.weight", "case_embeddings.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": cfg.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=cfg.lr)
    warm = max(1, int(cfg.warmup * total))

    def lr_lambda(step):
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total - step) / max(1, total - warm))

    return TrainState(model, opt, torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda))


def resume(cfg: Config, state: TrainState, ckpt_path: Path, total: int) -> None:
    """Loads `ckpt_path` into `state` when it exists; refuses one written with other settings."""
    if not ckpt_path.exists():
        return
    saved_state = torch.load(ckpt_path, weights_only=False)

    def trained(c: dict) -> dict:
        return {k: v for k, v in c.items() if k not in RUNTIME_ONLY}

    # A checkpoint older than a setting was trained with that setting's earlier behaviour.
    saved = {**SETTINGS_BEFORE_THEY_EXISTED, **saved_state["config"]}
    if trained(saved) != trained(dataclasses.asdict(cfg)):
        raise SystemExit(f"{ckpt_path} was written with other settings; remove it to start over")
    state.model.load_state_dict(saved_state["model"])
    state.opt.load_state_dict(saved_state["opt"])
    state.sched.load_state_dict(saved_state["sched"])
    torch.set_rng_state(saved_state["rng"])
    state.step, state.elapsed = saved_state["step"], saved_state["elapsed"]
    state.mlflow_run_id = saved_state.get("mlflow_run_id")
    print(f"resumed from {ckpt_path} at step {state.step}/{total}", file=sys.stderr)


def train_loop(
    cfg: Config,
    state: TrainState,
    plan: list,
    feats: dict,
    tok,
    dev: dict,
    tracker: Tracker,
    log_path: Path,
    ckpt_path: Path,
) -> None:
    """Runs the plan from `state.step` (losses and mid-run evaluations to `log_path`), checkpointing
    every `checkpoint_minutes` and at the end."""
    model, total = state.model, len(plan)
    mid_points = {int(total * (k + 1) / (cfg.mid_evals + 1)) for k in range(cfg.mid_evals)} if cfg.mid_evals else set()
    state.started = time.time()
    last_ckpt = time.time()
    stop_at = state.step + cfg.stop_after_steps if cfg.stop_after_steps else total
    running = {t: None for t in TASKS}
    model.train()
    with (
        open(log_path, "a", encoding="utf-8") as log,
        tqdm(total=total, initial=state.step, desc="train", unit="batch", mininterval=10, smoothing=0.05) as bar,
    ):
        while state.step < min(total, stop_at) and not cfg.finish_now:
            task, idx = plan[state.step]
            batch = collate(task, [feats[task][i] for i in idx], cfg.casing)
            labels = {k: batch.pop(k) for k in ("labels", "context_mask") if k in batch}
            logits = model(HEAD_OF[task], **batch)
            loss = task_loss(task, logits, labels)
            state.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            state.opt.step()
            state.sched.step()
            state.step += 1
            step = state.step
            v = loss.item()
            running[task] = v if running[task] is None else 0.98 * running[task] + 0.02 * v
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix({t: f"{loss:.3f}" for t, loss in running.items() if loss is not None})
                log.write(
                    json.dumps(
                        {
                            "step": step,
                            "task": task,
                            "loss": v,
                            "lr": state.sched.get_last_lr()[0],
                            "elapsed": state.seconds(),
                        }
                    )
                    + "\n"
                )
                log.flush()
                tracker.metrics({f"loss.{t}": loss for t, loss in running.items() if loss is not None}, step)
            if step in mid_points:
                model.eval()
                report = evaluate_all(numpy_model(cfg, model, tok), dev, cfg.mid_eval_limit)
                model.train()
                flat = flat_metrics(f"mid{cfg.mid_eval_limit}.fp32", report)
                tracker.metrics(flat, step)
                log.write(json.dumps({"step": step, "eval": flat}) + "\n")
                log.flush()
                bar.write(
                    f"step {step}: "
                    + ", ".join(
                        f"{k.split('.', 2)[2]}={v:.4f}" for k, v in flat.items() if k.endswith(("accuracy", ".f1"))
                    )
                )
            if time.time() - last_ckpt > cfg.checkpoint_minutes * 60 or step in (total, stop_at):
                state.save(cfg, ckpt_path)
                last_ckpt = time.time()


def final_evaluation(cfg: Config, dev: dict, tracker: Tracker, step: int, reports: dict):
    """The export's metrics_fn: evaluates the fp32 and the int8 model, filling `reports`."""

    def metrics_fn(fp32_model: Model, int8_model: Model) -> dict:
        for kind, m in (("fp32", fp32_model), ("int8", int8_model)):
            t = time.time()
            reports[kind] = evaluate_all(m, dev, cfg.final_eval_limit, show=True)
            reports[f"{kind}_seconds"] = time.time() - t
            tracker.metrics(flat_metrics(kind, reports[kind]), step)
            print(
                f"{kind} evaluation ({reports[f'{kind}_seconds']:.0f} s): " + json.dumps(headline(reports[kind])),
                file=sys.stderr,
            )
        return {"fp32": headline(reports["fp32"]), "int8": headline(reports["int8"])}

    return metrics_fn


def calibration_items(cfg: Config) -> list[dict] | None:
    """Unpadded training texts of every task for static quantisation (a seeded sample, like the drift
    profile's, with a different seed so the two samples are independent)."""
    if cfg.quantization != "static":
        return None
    from .profile_texts import sample_texts

    return sample_texts(data_dir(), cfg.calibration_per_dataset, cfg.seed + 1)


def export(
    cfg: Config,
    state: TrainState,
    out: Path,
    run_dir: Path,
    tracker: Tracker,
    dev: dict,
    training: dict,
    tokenizer_src: Path,
    total: int,
    t_start: float,
) -> dict:
    """Evaluates (fp32 and int8), writes the artifact folder and its evaluation, logs it to MLflow."""
    state.model.eval()
    reports: dict = {}
    aggregation = cfg.window_aggregation
    if aggregation == "auto":
        choice = choose_window_aggregation(
            cfg, numpy_model(cfg, state.model, load_tokenizer(tokenizer_src)), dev["imdb_unused_train"]
        )
        aggregation = choice["chosen"]
        training["window_aggregation"] = choice
        print(f"window aggregation: {json.dumps(choice)}", file=sys.stderr)
    manifest = write_artifact(
        state.model,
        out,
        name=cfg.name,
        version=cfg.version,
        tokenizer_src=tokenizer_src,
        base_encoder="sentence-transformers/all-MiniLM-L6-v2" if cfg.base == "minilm" else "random tiny BERT",
        max_length=cfg.max_length,
        stride=cfg.stride,
        head_extra=head_extra(cfg, aggregation),
        parity_inputs=PARITY_INPUTS,
        metrics_fn=final_evaluation(cfg, dev, tracker, total, reports),
        training=training,
        threads=cfg.threads,
        quantization=cfg.quantization,
        calibration=calibration_items(cfg),
    )
    manifest["training"]["seconds"] = round(time.time() - t_start + state.elapsed)
    write_json(out / "manifest.json", manifest)
    write_json(out / "evaluation.json", {"splits": SPLIT_NAMES, **reports})
    write_profile(out, data_dir())
    write_json(run_dir / "evaluation.json", {"splits": SPLIT_NAMES, **reports})
    tracker.artifacts(out)
    tracker.end()
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"artifact {out} ({size / 1e6:.1f} MB)", file=sys.stderr)
    return manifest


def run(cfg: Config, command: str) -> dict:
    """Data → model → resume → train loop → export (evaluate, write the artifact)."""
    t_start = time.time()
    commit = git_commit()  # the code that runs, even if the tree moves on during a long run
    torch.set_num_threads(cfg.threads)
    seed_all(cfg.seed)
    key = f"{cfg.name}-{cfg.version}"
    out = Path(cfg.out) if cfg.out else REPO_ROOT / "model" / "artifacts" / key
    run_dir = Path(cfg.run_dir) if cfg.run_dir else TRAINING_DIR / "runs" / key
    ckpt_dir = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir else checkpoint_dir(key)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = ckpt_dir / "last.pt"

    base = base_model_dir()
    tok = load_tokenizer(base / "tokenizer.json")
    used, dev, bank_cats, provenance = load_data(cfg)
    feats = build_features(cfg, tok, used, bank_cats)
    plan = batch_plan(cfg, feats)
    counts = {t: sum(1 for task, _ in plan if task == t) for t in TASKS}
    print(f"features: { {t: len(f) for t, f in feats.items()} }; batches: {counts}; total {len(plan)}", file=sys.stderr)

    if cfg.base == "tiny":
        bert = tiny_bert(tok.get_vocab_size(), cfg.seed)
    else:
        bert = load_base(base, attn="sdpa", attention_dropout=0.0)
    bert.config.hidden_dropout_prob = cfg.hidden_dropout
    model = MultitaskModel(bert, head_specs(bank_cats), casing=cfg.casing, head_dropout=cfg.hidden_dropout)
    total = len(plan)
    state = new_state(cfg, model, total)
    resume(cfg, state, ckpt_path, total)
    tracker = Tracker(cfg, state.mlflow_run_id)
    state.mlflow_run_id = tracker.run_id

    train_loop(cfg, state, plan, feats, tok, dev, tracker, run_dir / "train.log.jsonl", ckpt_path)
    train_seconds = state.seconds()
    print(f"training done: {state.step}/{total} batches in {train_seconds:.0f} s", file=sys.stderr)
    if cfg.stop_after_steps and state.step < total:
        print(f"--stop-after-steps: stopped at {state.step}/{total}; run again to resume", file=sys.stderr)
        tracker.end()
        return {}
    if cfg.train_only:
        print(f"--train-only: stopped at {ckpt_path}; run again without it to evaluate and export", file=sys.stderr)
        tracker.end()
        return {}

    params = dataclasses.asdict(cfg)
    params.update(
        {
            "features": {t: len(f) for t, f in feats.items()},
            "batches": counts,
            "torch": torch.__version__,
            "train_seconds": round(train_seconds),
            "steps_done": state.step,
            "steps_planned": total,
        }
    )
    training = {"commit": commit, "command": command, "seconds": 0, "params": params, "data": provenance}
    return export(cfg, state, out, run_dir, tracker, dev, training, base / "tokenizer.json", total, t_start)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    cfg = parse_args(argv)
    run(cfg, " ".join(["python -m trident_training.train"] + list(argv)))


if __name__ == "__main__":
    main()
