"""A seeded sample of the training texts, as JSON lines for the artifact's reference drift profile
(`profile.json`, written by model/evaluation/profile-artifact.ts with the exported int8 model):
equal shares of SST-2 sentences, CoNLL-2003 sentences, SQuAD contexts with one question each and
banking77 queries, so every head's confidence histogram has a reference. Standard library only.

    python -m trident_training.profile_texts OUT.jsonl [--per-dataset 250] [--seed 13]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from . import data as D
from .paths import data_dir


def sample_texts(root: Path, per_dataset: int, seed: int) -> list[dict]:
    rng = random.Random(seed)

    def pick(items: list) -> list:
        return rng.sample(items, min(per_dataset, len(items)))

    rows = [{"text": text} for text, _ in pick(D.read_sst2(root / D.SST2_TRAIN))]
    rows += [{"text": " ".join(s.tokens)} for s in pick(D.read_conll(root / D.CONLL_TRAIN))]
    rows += [{"text": q.context, "questions": [q.question]} for q in pick(D.read_squad(root / D.SQUAD_TRAIN))]
    rows += [
        {"text": text} for text, _ in pick(D.read_banking77(root / D.BANKING_TRAIN, root / D.BANKING_CATEGORIES)[0])
    ]
    return rows


def write_sample(out: Path, per_dataset: int = 250, seed: int = 13, root: Path | None = None) -> int:
    rows = sample_texts(root or data_dir(), per_dataset, seed)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-dataset", type=int, default=250)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    n = write_sample(args.out, args.per_dataset, args.seed)
    print(f"{n} texts written to {args.out}")


if __name__ == "__main__":
    main()
