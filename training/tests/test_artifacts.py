"""The committed artifacts follow model/README.md, and their parity fixtures reproduce in Python."""

import hashlib
import json
from pathlib import Path

import pytest

from trident_training.inference import Model
from trident_training.paths import REPO_ROOT

ARTIFACTS = [REPO_ROOT / "model" / "test-artifact"] + sorted((REPO_ROOT / "model" / "artifacts").glob("*/"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_manifest(folder: Path) -> dict:
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert m["format"] == "trident-model/1"
    assert sha(folder / m["tokenizer"]["file"]) == m["tokenizer"]["sha256"]
    assert sha(folder / m["encoder"]["file"]) == m["encoder"]["sha256"]
    tok = json.loads((folder / m["tokenizer"]["file"]).read_text(encoding="utf-8"))
    assert tok["padding"] is None and tok["truncation"] is None
    for name, head in m["heads"].items():
        assert sha(folder / head["file"]) == head["sha256"], name
    assert m["encoder"]["inputs"][:3] == ["input_ids", "attention_mask", "token_type_ids"]
    assert ("case_ids" in m["encoder"]["inputs"]) == bool(m["casing"])
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert size <= 40 * 1024 * 1024
    return m


def close(a, b, path="") -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=1e-3), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


@pytest.mark.parametrize("folder", ARTIFACTS, ids=lambda p: p.name)
def test_artifact_manifest_and_parity(folder):
    m = check_manifest(folder)
    parity = json.loads((folder / "parity.json").read_text(encoding="utf-8"))
    assert parity["offsets"] == "utf-16"
    model = Model.from_artifact(folder, threads=1)
    for item, expected in zip(parity["inputs"], parity["expected"]["int8"]):
        got = model.predict(item)
        close(got, expected, item["id"])
        for e in got.get("entities", []):
            units = item["text"].encode("utf-16-le")
            assert units[2 * e["start"]:2 * e["end"]].decode("utf-16-le") == e["text"]
    assert m["max_length"] > m["stride"]


def test_test_artifact_is_small_and_multi_window():
    folder = REPO_ROOT / "model" / "test-artifact"
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert m["max_length"] == 32 and m["stride"] == 8 and m["casing"]
    assert sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) < 3 * 1024 * 1024
    parity = json.loads((folder / "parity.json").read_text(encoding="utf-8"))
    answers = [a for out in parity["expected"]["int8"] for a in out["answers"]]
    assert any(a["answer"] is None for a in answers) and any(a["answer"] for a in answers)
