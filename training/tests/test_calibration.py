import json

import numpy as np
import pytest

from trident_training.calibration import (
    ece_from_confidences,
    expected_calibration_error,
    fit_temperature,
    nll,
    softmax_t,
)
from trident_training.paths import REPO_ROOT


def calibrated_sample(n: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn from softmax(logits): a perfectly calibrated model (T = 1)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 2.0, size=(n, classes))
    p = softmax_t(logits, 1.0)
    labels = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return logits, labels


@pytest.mark.parametrize("factor", [0.5, 3.0])
def test_fit_recovers_a_known_scaling(factor):
    logits, labels = calibrated_sample(40_000, 5, seed=1)
    # The model's logits are the calibrated ones times `factor`, so T = factor undoes it.
    t = fit_temperature(logits * factor, labels)
    assert abs(t / factor - 1) < 0.02
    # It is the NLL minimum: a step either way is worse.
    assert nll(logits * factor, labels, t) < min(
        nll(logits * factor, labels, t * 1.05), nll(logits * factor, labels, t / 1.05)
    )


def test_fit_handles_masked_entries():
    logits, labels = calibrated_sample(20_000, 6, seed=2)
    logits[:, 5] = -np.inf  # never the label: a masked (non-context) position
    labels = np.minimum(labels, 4)
    assert np.isfinite(nll(logits, labels, 1.0))
    assert 0.01 < fit_temperature(logits * 2.0, labels) < 100


def test_fit_rejects_empty_input():
    with pytest.raises(ValueError):
        fit_temperature(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_ece_is_near_zero_when_calibrated_and_large_when_overconfident():
    logits, labels = calibrated_sample(40_000, 5, seed=3)
    assert expected_calibration_error(softmax_t(logits, 1.0), labels) < 0.01
    over = expected_calibration_error(softmax_t(logits * 3.0, 1.0), labels)
    assert over > 0.1
    # Temperature scaling fitted on one half fixes the other half.
    t = fit_temperature(logits[:20_000] * 3.0, labels[:20_000])
    assert expected_calibration_error(softmax_t(logits[20_000:] * 3.0, t), labels[20_000:]) < 0.02


def test_ece_by_hand():
    # Bin (0.6, 0.667]: confidence 0.65 twice, one right: |0.5 - 0.65| = 0.15 on 2 of 4;
    # bin (0.933, 1]: confidence 1.0 twice, both right: 0. ECE = 0.075.
    assert ece_from_confidences(np.array([0.65, 0.65, 1.0, 1.0]), np.array([1, 0, 1, 1])) == pytest.approx(0.075)
    assert ece_from_confidences(np.array([0.0]), np.array([0])) == 0.0
    assert ece_from_confidences(np.array([]), np.array([])) == 0.0


def test_cli_on_the_test_artifact(data_root, tmp_path):
    from trident_training.calibrate import main

    artifact = REPO_ROOT / "model" / "test-artifact"
    out = tmp_path / "calibrated"
    main(["--artifact", str(artifact), "--out", str(out), "--slice", "24", "--dev-limit", "16", "--threads", "1"])
    before = json.loads((artifact / "manifest.json").read_text())
    after = json.loads((out / "manifest.json").read_text())
    report = json.loads((out / "calibration.json").read_text())
    for name in ("sentiment", "entities", "answers"):
        r = report["heads"][name]
        assert "temperature" not in before["heads"][name]
        assert {"before", "after", "fitted_temperature", "calibration_slice_ece", "kept"} <= set(r)
        # a fitted T is stored only when it lowers the ECE of a calibration slice that was not trained on
        lowers = r["calibration_slice_ece"]["after"] < r["calibration_slice_ece"]["before"]
        assert r["kept"] == (lowers and "WERE trained on" not in r["calibration"])
        assert after["heads"][name].get("temperature", 1.0) == r["temperature"]
        assert r["temperature"] == (r["fitted_temperature"] if r["kept"] else 1.0)
    # Sentiment: fitted on IMDB train reviews the artifact never trained on; reported on SST-2 dev
    # and on IMDB dev by review length too.
    sentiment = report["heads"]["sentiment"]
    assert sentiment["calibration"].startswith("24 of the") and "imdb/train.jsonl.gz" in sentiment["calibration"]
    assert sentiment["window_aggregation"] == "mean-probabilities"
    imdb = sentiment["more_dev"]["imdb/dev-10pct"]
    assert {"accuracy", "ece", "ece_short"} <= set(imdb["before"]) and imdb["before"].keys() == imdb["after"].keys()
    # Decisions do not depend on T for the classification and entity heads.
    assert report["heads"]["sentiment"]["before"]["accuracy"] == report["heads"]["sentiment"]["after"]["accuracy"]
    assert report["heads"]["entities"]["before"]["f1"] == report["heads"]["entities"]["after"]["f1"]
    # Only the manifest changed; every file it names is byte-identical.
    for f in ("tokenizer.json", "encoder.onnx", *(h["file"] for h in before["heads"].values())):
        assert (out / f).read_bytes() == (artifact / f).read_bytes()
    assert any("temperature" in h for h in after["heads"].values())  # else the parity check below proves nothing
    after_no_t = {
        **after,
        "heads": {k: {x: y for x, y in v.items() if x != "temperature"} for k, v in after["heads"].items()},
    }
    assert after_no_t == before
    # The fixture's int8 expectations are rewritten with the temperatures; fp32 ones need a checkpoint.
    parity, old = (json.loads((d / "parity.json").read_text()) for d in (out, artifact))
    assert set(parity["expected"]) == {"int8"} and parity["inputs"] == old["inputs"]
    assert parity["expected"]["int8"][0]["sentiment"] != old["expected"]["int8"][0]["sentiment"]


def test_inference_divides_by_the_manifest_temperature():
    from trident_training.inference import Head

    tensors = {"w": np.eye(2, dtype=np.float32), "b": np.array([0.5, -1.0], dtype=np.float32)}
    spec = {"layers": [{"weight": "w", "bias": "b", "activation": "none"}]}
    x = np.array([[3.0, 1.0]], dtype=np.float32)
    plain = Head("h", spec, tensors)
    warm = Head("h", {**spec, "temperature": 2.0}, tensors)
    assert np.array_equal(plain(x), np.array([[3.5, 0.0]], dtype=np.float32))
    assert np.array_equal(warm(x), plain(x) / 2)
    assert np.array_equal(warm.logits(x), plain(x))


def test_a_fitted_temperature_is_kept_only_when_it_lowers_the_slice_ece():
    from trident_training.calibrate import keep_if_better

    entry: dict = {}
    assert keep_if_better(entry, lambda t: abs(t - 2.0), 2.0) == 2.0 and entry["kept"] is True
    entry = {}
    assert keep_if_better(entry, lambda t: abs(t - 1.0), 0.5) == 1.0 and entry["kept"] is False
    assert entry["calibration_slice_ece"] == {"before": 0.0, "after": 0.5} and entry["fitted_temperature"] == 0.5
    entry = {}  # better on the slice, but the slice was trained on: no temperature
    assert keep_if_better(entry, lambda t: abs(t - 2.0), 2.0, trained_on=True) == 1.0 and entry["kept"] is False
