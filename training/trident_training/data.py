"""Readers for the shared datasets (paths relative to the data dir, see paths.data_dir and
../shared/data/SOURCES.md). Nothing here copies data anywhere."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

SST2_TRAIN, SST2_DEV = "sst2/train.tsv", "sst2/dev.tsv"
CONLL_TRAIN, CONLL_DEV = "conll2003/eng.train", "conll2003/eng.testa"
SQUAD_TRAIN, SQUAD_DEV = "squad_v1.1/train-v1.1.rebuilt.json", "squad_v1.1/dev-v1.1.articles-00-31.json"
BANKING_TRAIN, BANKING_CATEGORIES = "banking77/train.csv", "banking77/categories.json"
IMDB_TRAIN = "imdb/train.jsonl.gz"

SST2_LABELS = ["negative", "positive"]
ENTITY_TYPES = ["PER", "ORG", "LOC", "MISC"]
ENTITY_LABELS = ["O"] + [f"{p}-{t}" for t in ENTITY_TYPES for p in ("B", "I")]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------ SST-2


def read_sst2(path: Path) -> list[tuple[str, int]]:
    """(sentence, label) pairs; the GLUE file has a header and ' \\t' before each label."""
    out = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != ["sentence", "label"]:
            raise ValueError(f"{path}: unexpected header {header}")
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            sentence, label = line.rsplit("\t", 1)
            out.append((sentence.strip(), int(label)))
    return out


# ------------------------------------------------------------------ CoNLL-2003


@dataclass
class Sentence:
    tokens: list[str]
    tags: list[str]  # BIO


def read_conll(path: Path) -> list[Sentence]:
    """Sentences of the CoNLL-2003 file, NER tags converted IOB1 -> BIO; -DOCSTART- lines dropped."""
    sentences, tokens, tags = [], [], []

    def flush():
        if tokens:
            sentences.append(Sentence(list(tokens), iob1_to_bio(tags)))
        tokens.clear()
        tags.clear()

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                flush()
                continue
            cols = line.split(" ")
            if cols[0] == "-DOCSTART-":
                flush()
                continue
            tokens.append(cols[0])
            tags.append(cols[-1])
    flush()
    return sentences


def count_conll_docs(path: Path) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.startswith("-DOCSTART-"))


def iob1_to_bio(tags: list[str]) -> list[str]:
    """IOB1 (B- only between adjacent same-type entities) -> BIO (every entity starts with B-)."""
    out = []
    prev = "O"
    for tag in tags:
        if tag == "O":
            out.append("O")
        else:
            prefix, typ = tag.split("-", 1)
            prev_type = None if prev == "O" else prev.split("-", 1)[1]
            if prefix == "B" or prev_type != typ:
                out.append(f"B-{typ}")
            else:
                out.append(f"I-{typ}")
        prev = tag
    return out


# ------------------------------------------------------------------ SQuAD v1.1


@dataclass
class QAExample:
    id: str
    article: int
    question: str
    context: str
    answers: list[str]
    starts: list[int]


def read_squad(path: Path) -> list[QAExample]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    out = []
    for a, article in enumerate(data):
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                out.append(
                    QAExample(
                        qa["id"],
                        a,
                        qa["question"],
                        para["context"],
                        [x["text"] for x in qa["answers"]],
                        [x["answer_start"] for x in qa["answers"]],
                    )
                )
    return out


# ------------------------------------------------------------------ banking77


def read_banking77(path: Path, categories_path: Path | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """((text, category) rows, the 77 category names in categories.json order)."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = [(r["text"], r["category"]) for r in reader]
    if categories_path is None:
        categories_path = Path(path).parent / "categories.json"
    cats = json.loads(Path(categories_path).read_text(encoding="utf-8"))
    return rows, cats


def stratified_split(rows: list[tuple[str, str]], fraction: float, seed: int):
    """Holds out round(fraction * n_c) rows of every category c (at least 1); deterministic in seed."""
    by_cat: dict[str, list[int]] = defaultdict(list)
    for i, (_, c) in enumerate(rows):
        by_cat[c].append(i)
    rng = random.Random(seed)
    held = set()
    for c in sorted(by_cat):
        idx = list(by_cat[c])
        rng.shuffle(idx)
        held.update(idx[: max(1, round(fraction * len(idx)))])
    train = [r for i, r in enumerate(rows) if i not in held]
    val = [r for i, r in enumerate(rows) if i in held]
    return train, val


# ------------------------------------------------------------------ IMDB


@dataclass
class Review:
    id: str  # "train/pos/0_9": the original directory and file name
    text: str
    label: int  # 1 = positive, 0 = negative (SST2_LABELS order)
    rating: int  # 1-10 stars


def read_imdb(path: Path) -> list[Review]:
    """The IMDB train reviews (SOURCES.md: one JSON object a line, gzip). The files' HTML line breaks
    (`<br />`) become newlines, as a user pasting the review would send it; nothing else changes."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            row = json.loads(line)
            label, rating = int(row["label"]), int(row["rating"])
            if label not in (0, 1) or not 1 <= rating <= 10 or (label == 1) != (rating >= 7):
                raise ValueError(f"{path}:{n}: label {label} with rating {rating}")
            text = row["text"].replace("<br /><br />", "\n\n").replace("<br />", "\n")
            out.append(Review(row["id"], text, label, rating))
    return out


def imdb_split(reviews: list[Review], dev_fraction: float = 0.1) -> tuple[list[Review], list[Review]]:
    """(train, dev): a review is in dev when the hash of its id falls in the first `dev_fraction` of
    the range, so the split never moves when reviews are added, removed or reordered. Reviews of one
    movie (up to 30) can fall on both sides: the file does not say which movie a review is about."""
    cut = int(dev_fraction * 2**32)
    dev_ids = {r.id for r in reviews if int.from_bytes(hashlib.sha256(r.id.encode()).digest()[:4], "big") < cut}
    return [r for r in reviews if r.id not in dev_ids], [r for r in reviews if r.id in dev_ids]
