"""Static (calibrated) int8 for the encoder: outputs depend on the input alone, so a text gives the same
result alone or inside a padded batch of any mix of lengths (dynamic int8 computes activation scales
per batch tensor, so its outputs change with the batch).

The recipe (measured on all-MiniLM-L6-v2, see the README's quantisation notes):
- QDQ, per-channel int8 weights, activations QUInt8 with MinMax ranges calibrated one unpadded window
  at a time (padding never enters the ranges; the attention mask's -3.4e38 constant is never
  quantised because only MatMul/Gemm/Gather are);
- the attention-score MatMuls (Q·Kᵀ and P·V: no constant weight) stay float — `MatMulConstBOnly` has
  no effect in QDQ mode, so they are excluded by node;
- MatMul outputs are not quantised (ORT then runs MatMulIntegerToFloat, the dynamic path's kernel
  without the per-batch range pass);
- SmoothQuant (alpha 0.5) on the FFN-input MatMuls, whose LayerNorm inputs have outlier channels:
  per input channel s = amax_x**a / amax_W_row**(1-a), W <- s[:, None] * W, and Mul(x, 1/s) before the
  MatMul (not folded into the LayerNorm, whose output also feeds the residual).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .text import Window, pad_batch, qa_windows, text_windows, tokenize

SMOOTH_ALPHA = 0.5

# What the manifest records (model/README.md "quantization"): whether outputs depend on the input alone.
DYNAMIC = {"method": "dynamic-per-channel", "batch_independent": False}
STATIC = {"method": "static-qdq-smoothquant", "batch_independent": True}


def calibration_windows(
    tokenizer, items: Iterable[dict], max_length: int, stride: int, max_question_tokens: int
) -> list[Window]:
    """The windows the runtime would build for these items: every text's windows, and for items with
    questions the question+context windows too (so token type 1 and the QA layout are calibrated)."""
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    out: list[Window] = []
    for item in items:
        text = tokenize(tokenizer, item["text"])
        if text.ids:
            out += text_windows(text, max_length, stride, cls_id, sep_id)
        for q in item.get("questions", []):
            if text.ids:
                out += qa_windows(tokenize(tokenizer, q), text, max_length, stride, max_question_tokens, cls_id, sep_id)
    return out


def unpadded_feeds(windows: list[Window], casing: bool) -> Iterator[dict[str, np.ndarray]]:
    """One window per feed, batch 1, no padding: calibration ranges never see pad tokens."""
    for w in windows:
        yield pad_batch([w], casing)


def attention_matmuls(graph) -> list[str]:
    """MatMuls without a constant weight (Q·Kᵀ, P·V), plus any named like the BERT attention-score
    MatMuls: these stay float."""
    consts = {i.name for i in graph.initializer}
    return [
        n.name
        for n in graph.node
        if n.op_type == "MatMul" and (n.input[1] not in consts or "attention/self/MatMul" in n.name)
    ]


def ffn_input_matmuls(graph) -> list:
    """MatMuls with a constant weight that widens the hidden size and reads a LayerNormalization's
    output: BERT's intermediate (FFN-input) dense layers, where the outlier channels are."""
    weights = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    out = []
    for n in graph.node:
        if n.op_type != "MatMul" or n.input[1] not in weights:
            continue
        dims = list(weights[n.input[1]].dims)
        src = producer.get(n.input[0])
        if len(dims) == 2 and dims[1] > dims[0] and src is not None and src.op_type == "LayerNormalization":
            out.append(n)
    return out


def activation_amax(model_path: Path, tensors: list[str], feeds: Iterable[dict]) -> dict[str, np.ndarray]:
    """Per-channel max |x| of the given fp32 activations over the calibration feeds."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(model_path))
    known = {o.name for o in model.graph.output}
    for name in tensors:
        if name not in known:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    amax: dict[str, np.ndarray] = {}
    for feed in feeds:
        values = session.run(tensors, {k: feed[k] for k in inputs})
        for name, v in zip(tensors, values):
            m = np.abs(v.reshape(-1, v.shape[-1])).max(axis=0)
            amax[name] = m if name not in amax else np.maximum(amax[name], m)
    return amax


def smooth(model_path: Path, out_path: Path, feeds: list[dict], alpha: float = SMOOTH_ALPHA) -> list[str]:
    """SmoothQuant on the FFN-input MatMuls; returns their node names."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path))
    graph = model.graph
    targets = ffn_input_matmuls(graph)
    amax = activation_amax(model_path, sorted({n.input[0] for n in targets}), feeds)
    weights = {i.name: i for i in graph.initializer}
    for node in targets:
        w = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        x_max = np.maximum(amax[node.input[0]], 1e-5)
        w_max = np.maximum(np.abs(w).max(axis=1), 1e-5)
        s = (x_max**alpha / w_max ** (1 - alpha)).astype(np.float32)
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(s[:, None] * w, node.input[1]))
        inv_name, smoothed = f"{node.name}/smooth_inv_scale", f"{node.name}/smoothed_input"
        graph.initializer.append(numpy_helper.from_array((1.0 / s).astype(np.float32), inv_name))
        mul = onnx.helper.make_node("Mul", [node.input[0], inv_name], [smoothed], name=f"{node.name}/Smooth")
        graph.node.insert(list(graph.node).index(node), mul)
        node.input[0] = smoothed
    onnx.save(model, str(out_path))
    return [n.name for n in targets]


class _Reader:
    """onnxruntime CalibrationDataReader over prepared feeds; with CalibStridedMinMax ORT collects
    one range [start, end) at a time through set_range (here one window each)."""

    def __init__(self, feeds: list[dict], inputs: list[str]):
        self._feeds = [{k: f[k] for k in inputs} for f in feeds]
        self.set_range(0, len(self._feeds))

    def __len__(self) -> int:
        return len(self._feeds)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._it = iter(self._feeds[start_index:end_index])

    def get_next(self):
        return next(self._it, None)

    def rewind(self) -> None:
        self.set_range(0, len(self._feeds))


def quantize_static_int8(fp32: Path, int8: Path, feeds: list[dict]) -> dict:
    """fp32 encoder -> static QDQ int8 (module docstring). `feeds`: unpadded calibration feeds
    (unpadded_feeds). Returns what was done, for the export checks."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not feeds:
        raise ValueError("static quantisation needs calibration texts: none were given")
    with tempfile.TemporaryDirectory() as tmp:
        pre, smoothed = Path(tmp) / "pre.onnx", Path(tmp) / "smoothed.onnx"
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        smoothed_nodes = smooth(pre, smoothed, feeds)
        graph = onnx.load(str(smoothed)).graph
        excluded = attention_matmuls(graph)
        inputs = [i.name for i in graph.input]
        quantize_static(
            str(smoothed),
            str(int8),
            _Reader(feeds, inputs),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul", "Gemm", "Gather"],
            per_channel=True,
            reduce_range=False,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"CalibStridedMinMax": 1, "OpTypesToExcludeOutputQuantization": ["MatMul"]},
        )
    return {
        "calibration_windows": len(feeds),
        "smoothed_matmuls": len(smoothed_nodes),
        "float_matmuls": len(excluded),
        "smooth_alpha": SMOOTH_ALPHA,
    }
