"""Static int8 on the tiny test model: a text's encoder output is the same alone and inside padded
batches of mixed lengths (within 1e-5), which dynamic int8 does not give on the same inputs."""

import json

import numpy as np
import onnx
import pytest

from trident_training.export import PARITY_INPUTS, quantize
from trident_training.inference import OrtEncoder
from trident_training.make_test_artifact import build
from trident_training.paths import base_model_dir
from trident_training.quantize_static import attention_matmuls, calibration_windows, ffn_input_matmuls
from trident_training.text import load_tokenizer, pad_batch

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The tiny test model exported with static int8 (calibrated on the parity texts), and the same
    fp32 encoder quantised dynamically for comparison."""
    tmp = tmp_path_factory.mktemp("static")
    fp32 = tmp / "encoder.fp32.onnx"
    manifest = build(tmp / "artifact", quantization="static", keep_fp32=fp32)
    quantize(fp32, tmp / "dynamic.onnx")
    return {
        "dir": tmp / "artifact",
        "manifest": manifest,
        "fp32": fp32,
        "static": tmp / "artifact" / "encoder.onnx",
        "dynamic": tmp / "dynamic.onnx",
    }


@pytest.fixture(scope="module")
def windows():
    """Windows of 3..32 tokens from texts the calibration did not see, plain and question+context."""
    texts = [
        {"text": "Great."},
        {"text": "Thanks, Anna from Oslo!"},
        {"text": "The service at the Berlin branch of Deutsche Bank was slow and unfriendly today."},
        {"text": "Why was my transfer to Lisbon blocked? I need the money by Friday, it is urgent!"},
        {
            "text": "Marie Curie was born in Warsaw in 1867 and later moved to Paris, where she studied "
            "physics and chemistry at the Sorbonne.",
            "questions": ["Where was Marie Curie born?"],
        },
    ]
    out = calibration_windows(load_tokenizer(base_model_dir() / "tokenizer.json"), texts, 32, 8, 16)
    lengths = {len(w.input_ids) for w in out}
    assert len(out) >= 6 and min(lengths) < 8 and max(lengths) == 32
    return out


def alone_vs_batched(path, windows, threads_alone=1, threads_batched=2) -> float:
    """Max |difference| over real tokens between each window run alone and inside padded batches
    (all windows together, and interleaved pairs of short and long)."""
    alone_enc, batch_enc = OrtEncoder(path, threads_alone), OrtEncoder(path, threads_batched)
    alone = [alone_enc(pad_batch([w], True))[0] for w in windows]
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
    groups = [list(range(len(windows))), order[::-1]]
    groups += [[order[i], order[-1 - i]] for i in range(len(order) // 2)]
    worst = 0.0
    for group in groups:
        out = batch_enc(pad_batch([windows[i] for i in group], True))
        for row, i in enumerate(group):
            n = len(windows[i].input_ids)
            worst = max(worst, float(np.abs(out[row, :n] - alone[i]).max()))
    return worst


def test_static_int8_is_batch_independent(exported, windows):
    assert alone_vs_batched(exported["static"], windows) <= TOLERANCE


def test_dynamic_int8_is_not_batch_independent(exported, windows):
    # The control: the same inputs through dynamic int8 differ with the batch, so the check above can fail.
    assert alone_vs_batched(exported["dynamic"], windows) > 10 * TOLERANCE


def test_static_int8_stays_close_to_fp32(exported, windows):
    feeds = pad_batch(windows, True)
    mask = feeds["attention_mask"].astype(bool)
    ref = OrtEncoder(exported["fp32"], 1)(feeds)[mask]
    got = OrtEncoder(exported["static"], 1)(feeds)[mask]
    cos = (ref * got).sum(-1) / (np.linalg.norm(ref, axis=-1) * np.linalg.norm(got, axis=-1))
    assert cos.min() > 0.95, cos.min()


def test_static_graph_keeps_attention_scores_float_and_smooths_ffn_inputs(exported):
    fp32 = onnx.load(str(exported["fp32"])).graph
    layers = 2
    # The node rules match the exported encoder: Q·Kᵀ and P·V per layer, one FFN input per layer.
    assert sorted(attention_matmuls(fp32)) == sorted(
        n.name for n in fp32.node if n.op_type == "MatMul" and "attention/self/MatMul" in n.name
    )
    assert len(attention_matmuls(fp32)) == 2 * layers
    assert [n.name for n in ffn_input_matmuls(fp32)] == [
        f"/bert/encoder/layer.{i}/intermediate/dense/MatMul" for i in range(layers)
    ]
    graph = onnx.load(str(exported["static"])).graph
    producer = {o: n for n in graph.node for o in n.output}
    for name in attention_matmuls(fp32):
        node = next(n for n in graph.node if n.name == name)
        assert all(producer[i].op_type != "DequantizeLinear" for i in node.input if i in producer), name
    assert sum(n.op_type == "Mul" and n.name.endswith("/Smooth") for n in graph.node) == layers
    # The mask path is never quantised: every QuantizeLinear reads a MatMul/Gather input, not the mask.
    assert not any(n.op_type == "QuantizeLinear" and "Where" in n.input[0] for n in graph.node)


def test_manifest_records_the_quantization(exported):
    m = json.loads((exported["dir"] / "manifest.json").read_text(encoding="utf-8"))
    assert m["quantization"] == {"method": "static-qdq-smoothquant", "batch_independent": True}
    assert m["encoder"]["quantization"] == "int8-static-qdq-smoothquant"
    checks = m["training"]["export_checks"]
    assert checks["smoothed_matmuls"] == 2 and checks["float_matmuls"] == 4
    assert checks["calibration_windows"] >= len(PARITY_INPUTS)


def test_unknown_quantization_is_refused(tmp_path):
    with pytest.raises(ValueError, match="quantization"):
        build(tmp_path / "x", quantization="fp16")
