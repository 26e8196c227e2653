"""Static vs dynamic int8 on the base encoder (all-MiniLM-L6-v2 with a small random casing embedding,
as the released encoder has `case_ids`; no fine-tuning): each held-out window alone vs inside padded
batches of 16 mixed lengths (max abs difference over real tokens), and token cosine vs fp32.

    python -m trident_training.static_check [--per-dataset 25] [--test-windows 32]

Needs the shared data sets (calibration and test texts: seeded samples of every task's training
split, different seeds). About a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from .export import export_onnx, quantize
from .inference import OrtEncoder
from .modeling import MultitaskModel, load_base
from .paths import base_model_dir, data_dir
from .profile_texts import sample_texts
from .quantize_static import calibration_windows, quantize_static_int8, unpadded_feeds
from .text import load_tokenizer, pad_batch


def compare(path: Path, fp32: Path, windows, batch: int, threads: int) -> dict:
    enc, ref_enc = OrtEncoder(path, threads), OrtEncoder(fp32, threads)
    alone = [enc(pad_batch([w], True))[0] for w in windows]
    worst = 0.0
    for g in range(0, len(windows), batch):
        out = enc(pad_batch(windows[g : g + batch], True))
        for r, w in enumerate(windows[g : g + batch]):
            worst = max(worst, float(np.abs(out[r, : len(w.input_ids)] - alone[g + r]).max()))
    a = np.concatenate([ref_enc(pad_batch([w], True))[0] for w in windows])
    b = np.concatenate(alone)
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return {
        "alone_vs_batched_max_abs_diff": worst,
        "token_cosine_mean": float(cos.mean()),
        "token_cosine_min": float(cos.min()),
        "mb": round(path.stat().st_size / 1e6),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-dataset", type=int, default=25, help="calibration texts per task")
    p.add_argument("--test-windows", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MultitaskModel(load_base(base_model_dir()), {"sentiment": ("sentiment", ["n", "p"])}, casing=True).eval()
    with torch.no_grad():
        weight = model.encoder.case_embeddings.weight
        weight.copy_(torch.randn_like(weight) * 0.05)
    tok = load_tokenizer(base_model_dir() / "tokenizer.json")
    with tempfile.TemporaryDirectory() as tmp:
        fp32, static, dynamic = (Path(tmp) / f"{n}.onnx" for n in ("fp32", "static", "dynamic"))
        export_onnx(model.encoder, fp32)
        calib = calibration_windows(tok, sample_texts(data_dir(), args.per_dataset, 14), 256, 64, 64)
        print("static:", quantize_static_int8(fp32, static, list(unpadded_feeds(calib, True))))
        quantize(fp32, dynamic)
        test = calibration_windows(tok, sample_texts(data_dir(), 8, 99), 256, 64, 64)[: args.test_windows]
        lengths = [len(w.input_ids) for w in test]
        print(f"{len(test)} test windows, {min(lengths)}..{max(lengths)} tokens")
        for name, path in (("fp32", fp32), ("dynamic", dynamic), ("static", static)):
            print(name, compare(path, fp32, test, 16, args.threads))


if __name__ == "__main__":
    main()
