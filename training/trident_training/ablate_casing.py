"""Casing ablation: a short CoNLL-only fine-tuning of the base encoder with and without the casing
embedding (`case_ids`), evaluated on conll2003/testa (fp32, same evaluation code as the recipe).

    python -m trident_training.ablate_casing [--sentences N] [--epochs E]

Writes training/runs/ablation-casing.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from . import data as D
from .features import entity_features
from .paths import TRAINING_DIR
from .train import (
    Config,
    MultitaskModel,
    base_model_dir,
    batch_plan,
    collate,
    data_dir,
    eval_entities,
    load_base,
    load_tokenizer,
    numpy_model,
    seed_all,
    subset,
    task_loss,
    tiny_bert,
)


def one(casing: bool, args, tok, train, dev) -> dict:
    cfg = Config(casing=casing, seed=args.seed, lr=args.lr, conll_epochs=args.epochs, base=args.base)
    seed_all(cfg.seed)
    feats = {"sst2": [], "squad": [], "banking77": [], "conll": entity_features(tok, train, 128, 32)}
    plan = batch_plan(cfg, feats)
    bert = tiny_bert(tok.get_vocab_size(), cfg.seed) if args.base == "tiny" else load_base(base_model_dir())
    model = MultitaskModel(bert, {"entities": ("entities", D.ENTITY_LABELS)}, casing=casing)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    warm = max(1, int(0.06 * len(plan)))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (len(plan) - s) / max(1, len(plan) - warm))
    )
    t = time.time()
    model.train()
    for task, idx in plan:
        batch = collate(task, [feats[task][i] for i in idx], casing)
        labels = {"labels": batch.pop("labels")}
        loss = task_loss(task, model("entities", **batch), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    seconds = time.time() - t
    model.eval()
    m = numpy_model(cfg, model, tok)
    m.heads = {"entities": m.heads["entities"]}
    report = eval_entities(m, "entities", dev)
    return {
        "casing": casing,
        "batches": len(plan),
        "train_seconds": round(seconds),
        "f1": report["f1"],
        "precision": report["precision"],
        "recall": report["recall"],
        "per_type": report["per_type"],
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="casing ablation on CoNLL-2003")
    p.add_argument("--sentences", type=int, default=0, help="training sentences (0 = all 14,041)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--base", default="minilm")
    p.add_argument("--dev-limit", type=int, default=0)
    p.add_argument("--out", default=str(TRAINING_DIR / "runs" / "ablation-casing.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    tok = load_tokenizer(base_model_dir() / "tokenizer.json")
    root = data_dir()
    train = subset(D.read_conll(root / D.CONLL_TRAIN), args.sentences, args.seed)
    dev = D.read_conll(root / D.CONLL_DEV)
    if args.dev_limit:
        dev = dev[: args.dev_limit]
    results = [one(c, args, tok, train, dev) for c in (False, True)]
    out = {
        "command": "python -m trident_training.ablate_casing " + " ".join(argv or sys.argv[1:]),
        "train_sentences": len(train),
        "dev": "conll2003/testa",
        "dev_sentences": len(dev),
        "results": results,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
    for r in results:
        print(
            f"casing={r['casing']}: F1 {100 * r['f1']:.2f} (P {100 * r['precision']:.2f}, "
            f"R {100 * r['recall']:.2f}), {r['batches']} batches, {r['train_seconds']} s"
        )


if __name__ == "__main__":
    main()
