"""What a parity fixture records beside its expected outputs: which CPU kernel path produced its int8
values (`kernel`), and which of its entity and answer decisions were near ties (`near_ties`), so
model/parity.ts and parity_check.py know which decisions another CPU may take the other way.

    python -m trident_training.parity_fixture --artifact model/artifacts/<name>-<version>

adds both to an existing parity.json without touching its values, and refuses when this machine's
int8 outputs do not reproduce the fixture (then it was written on another kernel path, and the
near ties must be computed there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import numpy as np

from .inference import Model, best_span, span_margin, utf16_index, word_vectors
from .parity_check import NEAR_TIE_EPSILON

# Same machine and kernel path: only float summation order moves (measured ≤ 3.6e-7).
REPRODUCE_TOLERANCE = 1e-5

# ONNX Runtime (MLAS) picks its u8·s8 int8 GEMM by CPU feature, best first. Only the AVX2/AVX-512BW
# kernels without VNNI sum pairs of products in saturating int16 (vpmaddubsw); the others accumulate
# exact int32 products.
X86_INT8_PATHS = [
    ("amx_int8", "amx"),
    ("avx512_vnni", "avx512_vnni"),
    ("avx_vnni", "avx_vnni"),
    ("avx512bw", "avx512bw (u8s8 saturating)"),
    ("avx2", "avx2 (u8s8 saturating)"),
    ("sse4_1", "sse4.1"),
]


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def kernel_path(flags: set[str] | None = None, machine: str | None = None) -> dict:
    """The ONNX Runtime version, CPU architecture and int8 GEMM path of this process."""
    import onnxruntime

    flags = cpu_flags() if flags is None else flags
    machine = (machine or platform.machine()).lower()
    if machine in ("x86_64", "amd64"):
        path = next((name for flag, name in X86_INT8_PATHS if flag in flags), "sse2")
        relevant = [flag for flag, _ in X86_INT8_PATHS if flag in flags]
    elif machine in ("aarch64", "arm64"):
        path = "neon_i8mm" if "i8mm" in flags else "neon_dotprod" if "asimddp" in flags else "neon"
        relevant = sorted(flags & {"asimd", "asimddp", "i8mm", "sve"})
    else:
        path, relevant = "unknown", []
    return {"onnxruntime": onnxruntime.__version__, "machine": machine, "int8_gemm": path, "cpu_flags": relevant}


def near_ties(model: Model, item: dict, epsilon: float = NEAR_TIE_EPSILON) -> dict:
    """{"entities": [[start, end, margin], …] (UTF-16), "answers": [[question index, margin], …]}:
    every decision whose margin is ≤ epsilon, with that margin (a comparison exempts those within its own).

    An entity range covers a word whose label margin is ≤ epsilon together with the words on either
    side (its label can end, extend or split the entities next to it). An answer is a near tie when
    its best span leads the next span by ≤ epsilon or its score is within epsilon of the
    no-answer threshold.
    """
    text = item["text"]
    conv = utf16_index(text)
    out: dict = {}
    for head in model.head_for("entities"):
        t, probs = model.token_probs([text], head)[0]
        words = word_vectors(t, probs, head.spec.get("aggregation", "first")) if t.ids else []
        ranges = []
        for i, (_, _, vec) in enumerate(words):
            top2 = np.sort(vec)[-2:]
            margin = float(top2[1] - top2[0])
            if margin <= epsilon:
                lo, hi = words[max(i - 1, 0)][0], words[min(i + 1, len(words) - 1)][1]
                ranges.append([conv(lo), conv(hi), round(margin, 6)])
        if ranges:
            out["entities"] = ranges
    for head in model.head_for("answers"):
        qs = item.get("questions", [])
        pairs = [(q, text) for q in qs]
        _, groups = model.answer_windows(pairs, head)
        flagged = []
        for i in range(len(pairs)):
            if i not in groups:
                continue
            windows, logits = groups[i]
            margin = span_margin(windows, logits, head.spec["max_answer_tokens"])
            best = best_span(windows, logits, head.spec["max_answer_tokens"])[0]
            margin = min(margin, abs(best - head.spec["no_answer_threshold"]))
            if margin <= epsilon:
                flagged.append([i, round(margin, 6)])
        if flagged:
            out["answers"] = flagged
    return out


def fixture_metadata(model: Model, inputs: list[dict], epsilon: float = NEAR_TIE_EPSILON) -> dict:
    """The `kernel` and `near_ties` entries of a parity.json whose int8 outputs `model` computes here."""
    ties = {}
    for item in inputs:
        if item["text"].strip():
            found = near_ties(model, item, epsilon)
            if found:
                ties[item["id"]] = found
    return {"kernel": kernel_path(), "near_ties": {"epsilon": epsilon, "inputs": ties}}


def reproduction_error(expected, actual, path: str = "") -> str | None:
    """The first place where `actual` differs from `expected` by more than float summation order."""
    if isinstance(expected, float) or isinstance(actual, float):
        ok = isinstance(actual, (int, float)) and abs(expected - actual) <= REPRODUCE_TOLERANCE
        return None if ok else f"{path}: {expected} vs {actual}"
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return f"{path}: keys {sorted(expected)} vs {sorted(actual)}"
        return next((e for k in expected if (e := reproduction_error(expected[k], actual[k], f"{path}.{k}"))), None)
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: length {len(expected)} vs {len(actual)}"
        return next(
            (e for i, (x, y) in enumerate(zip(expected, actual)) if (e := reproduction_error(x, y, f"{path}[{i}]"))),
            None,
        )
    return None if expected == actual else f"{path}: {expected!r} vs {actual!r}"


def annotate(folder: Path, threads: int = 1) -> dict:
    """Adds `kernel` and `near_ties` to folder/parity.json after checking that this machine reproduces it."""
    path = folder / "parity.json"
    parity = json.loads(path.read_text(encoding="utf-8"))
    model = Model.from_artifact(folder, threads=threads)
    for item, expected in zip(parity["inputs"], parity["expected"]["int8"]):
        error = reproduction_error(expected, model.predict(item), item["id"])
        if error:
            raise SystemExit(
                f"{path}: this machine ({kernel_path()['int8_gemm']}) does not reproduce the "
                f"fixture ({error}); annotate it on the kind of CPU that wrote it"
            )
    parity.update(fixture_metadata(model, parity["inputs"]))
    path.write_text(json.dumps(parity, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return parity


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--artifact", required=True, action="append", help="artifact folder (repeatable)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for folder in args.artifact:
        parity = annotate(Path(folder), args.threads)
        print(
            f"{folder}/parity.json: kernel {parity['kernel']['int8_gemm']}, "
            f"near ties in {len(parity['near_ties']['inputs'])} of {len(parity['inputs'])} inputs"
        )


if __name__ == "__main__":
    main()
