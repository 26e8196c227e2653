"""The committed artifacts follow model/README.md, and their parity fixtures reproduce in Python."""

import hashlib
import json
from pathlib import Path

import pytest

from trident_training.inference import Model
from trident_training.parity_check import compare_fixture
from trident_training.parity_fixture import kernel_path
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


@pytest.mark.parametrize("folder", ARTIFACTS, ids=lambda p: p.name)
def test_artifact_manifest_and_parity(folder):
    m = check_manifest(folder)
    parity = json.loads((folder / "parity.json").read_text(encoding="utf-8"))
    assert parity["offsets"] == "utf-16"
    model = Model.from_artifact(folder, threads=1)
    outputs = [model.predict(item) for item in parity["inputs"]]
    # The cross-CPU rules (parity_check.py): probabilities within the tolerance for this machine's
    # int8 path vs the fixture's, decisions identical unless the fixture marks them as near ties.
    assert compare_fixture(parity, outputs, kernel_path()["int8_gemm"]) == []
    for item, got in zip(parity["inputs"], outputs):
        for e in got.get("entities", []):
            units = item["text"].encode("utf-16-le")
            assert units[2 * e["start"] : 2 * e["end"]].decode("utf-16-le") == e["text"]
    assert m["max_length"] > m["stride"]


def test_test_artifact_is_small_and_multi_window():
    folder = REPO_ROOT / "model" / "test-artifact"
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert m["max_length"] == 32 and m["stride"] == 8 and m["casing"]
    assert sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) < 3 * 1024 * 1024
    parity = json.loads((folder / "parity.json").read_text(encoding="utf-8"))
    answers = [a for out in parity["expected"]["int8"] for a in out["answers"]]
    assert any(a["answer"] is None for a in answers) and any(a["answer"] for a in answers)
