"""Turns a Trident artifact into standard single-task Transformers.js model folders, one per head,
so that `bench/peers.ts` can run the user's alternative (one int8 model per task) on the same weights.

    python -m trident_training.export_peers --artifact model/artifacts/trident-multitask-1.1.0 \
        --out ~/.cache/trident/peers/1.1.0

Each folder (named after the head) holds what Transformers.js loads with `dtype: 'q8'`:
config.json (BertForSequenceClassification / BertForTokenClassification / BertForQuestionAnswering,
id2label/label2id from the manifest), tokenizer.json + tokenizer_config.json (the artifact's
lower-casing tokenizer) and onnx/model_quantized.onnx: the artifact's int8 encoder graph, its
initialisers untouched, with the head appended as ONNX ops and the outputs Transformers.js reads
(`logits`; `start_logits`/`end_logits` for question answering). A `peers.json` in --out names the
artifact and encoder digest the folders were made from.

`case_ids` is not an input a standard model takes. The graph computes it from the token ids with a
constant table (`trident_case_table`, one class per vocabulary entry): the casing class that
model/README.md gives a token of *lower-case* text, i.e. 0 for special tokens and for tokens without
a cased letter (punctuation, digits), 1 for tokens with one (a "##" prefix is not part of the text).
The tokenizer lower-cases before the model sees anything, so a standard pipeline cannot know the
original casing; this table is exactly what Trident feeds for a text that is already lower case,
and differs from it on every capitalised token (Trident: 2, 3 or 4 from the original characters).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

from .text import CASE_NONE, case_class

ARCHITECTURES = {
    "sentiment": "BertForSequenceClassification",
    "categories": "BertForSequenceClassification",
    "entities": "BertForTokenClassification",
    "answers": "BertForQuestionAnswering",
}
CASE_TABLE = "trident_case_table"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def case_table(tokenizer_json: dict) -> np.ndarray:
    """Casing class per vocabulary id for lower-case text (see the module docstring)."""
    vocab: dict[str, int] = tokenizer_json["model"]["vocab"]
    specials = {t["id"] for t in tokenizer_json.get("added_tokens", []) if t.get("special")}
    table = np.zeros(max(vocab.values()) + 1, dtype=np.int64)
    for token, index in vocab.items():
        if index in specials:
            table[index] = CASE_NONE
            continue
        prefix = tokenizer_json["model"].get("continuing_subword_prefix", "##")
        piece = token[len(prefix) :] if token.startswith(prefix) and token != prefix else token
        table[index] = case_class(piece)
    return table


class GraphBuilder:
    """Appends nodes and initialisers to a graph under a fixed name prefix."""

    def __init__(self, graph: onnx.GraphProto, prefix: str):
        self.graph = graph
        self.prefix = prefix
        self.count = 0

    def name(self, what: str) -> str:
        self.count += 1
        return f"{self.prefix}/{what}_{self.count}"

    def const(self, what: str, value: np.ndarray) -> str:
        name = self.name(what)
        self.graph.initializer.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs) -> str:
        out = output or self.name(op.lower())
        self.graph.node.append(helper.make_node(op, inputs, [out], name=self.name(op), **attrs))
        return out


def pool(b: GraphBuilder, hidden: str, pooling: str) -> str:
    """[batch, seq, H] → [batch, H] (cls: token 0; mean: over attention_mask) or unchanged (none)."""
    if pooling == "none":
        return hidden
    if pooling == "cls":
        return b.node("Gather", [hidden, b.const("zero", np.array(0, dtype=np.int64))], axis=1)
    if pooling == "mean":
        mask = b.node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
        mask = b.node("Unsqueeze", [mask, b.const("axis", np.array([-1], dtype=np.int64))])
        total = b.node(
            "ReduceSum", [b.node("Mul", [hidden, mask]), b.const("axis", np.array([1], dtype=np.int64))], keepdims=0
        )
        count = b.node("ReduceSum", [mask, b.const("axis", np.array([1], dtype=np.int64))], keepdims=0)
        return b.node("Div", [total, count])
    raise ValueError(f"unknown pooling {pooling!r}")


def activation(b: GraphBuilder, x: str, kind: str) -> str:
    if kind == "none":
        return x
    if kind == "tanh":
        return b.node("Tanh", [x])
    if kind == "relu":
        return b.node("Relu", [x])
    if kind == "gelu":  # exact gelu, as the numpy and TypeScript heads compute it: 0.5·x·(1 + erf(x/√2))
        erf = b.node("Erf", [b.node("Div", [x, b.const("sqrt2", np.array(math.sqrt(2), dtype=np.float32))])])
        one_plus = b.node("Add", [erf, b.const("one", np.array(1, dtype=np.float32))])
        return b.node("Mul", [b.node("Mul", [x, one_plus]), b.const("half", np.array(0.5, dtype=np.float32))])
    raise ValueError(f"unknown activation {kind!r}")


def head_graph(
    encoder: onnx.ModelProto, spec: dict, tensors: dict[str, np.ndarray], table: np.ndarray
) -> onnx.ModelProto:
    """The encoder with case_ids computed in-graph and the head appended; outputs as Transformers.js reads them."""
    model = onnx.ModelProto()
    model.CopyFrom(encoder)
    g = model.graph
    hidden_name = "last_hidden_state"
    if not any(o.name == hidden_name for o in g.output):
        raise ValueError(f"encoder has no output {hidden_name}")

    # case_ids: an input of the artifact's encoder, computed here from input_ids (module docstring).
    if any(i.name == "case_ids" for i in g.input):
        kept = [i for i in g.input if i.name != "case_ids"]
        del g.input[:]
        g.input.extend(kept)
        g.initializer.append(numpy_helper.from_array(table, CASE_TABLE))
        g.node.insert(
            0, helper.make_node("Gather", [CASE_TABLE, "input_ids"], ["case_ids"], name="trident/case_ids", axis=0)
        )

    b = GraphBuilder(g, f"trident/{spec['task']}")
    x = pool(b, hidden_name, spec["pooling"])
    for layer in spec["layers"]:
        weight = tensors[layer["weight"]].astype(np.float32)  # [out, in], nn.Linear layout
        bias = tensors[layer["bias"]].astype(np.float32)
        y = b.node("MatMul", [x, b.const("weight_t", np.ascontiguousarray(weight.T))])
        x = activation(b, b.node("Add", [y, b.const("bias", bias)]), layer["activation"])

    n_out = tensors[spec["layers"][-1]["bias"]].shape[0]
    del g.output[:]
    if spec["task"] == "answers":
        halves = [b.name("start"), b.name("end")]  # [batch, seq, 2] → two [batch, seq, 1]
        split = b.const("split", np.array([1, 1], dtype=np.int64))
        g.node.append(helper.make_node("Split", [x, split], halves, name=b.name("Split"), axis=-1))
        last = b.const("axis", np.array([-1], dtype=np.int64))
        b.node("Squeeze", [halves[0], last], output="start_logits")
        b.node("Squeeze", [halves[1], last], output="end_logits")
        for name in ("start_logits", "end_logits"):
            g.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", "sequence"]))
    else:
        g.node.append(helper.make_node("Identity", [x], ["logits"], name=b.name("logits")))
        dims = ["batch", n_out] if spec["pooling"] != "none" else ["batch", "sequence", n_out]
        g.output.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, dims))
    onnx.checker.check_model(model)
    return model


def config_json(manifest: dict, head_name: str, spec: dict, vocab_size: int) -> dict:
    labels = list(spec["labels"])
    config = {
        "architectures": [ARCHITECTURES[spec["task"]]],
        "model_type": "bert",
        "hidden_size": manifest["encoder"]["hidden_size"],
        "vocab_size": vocab_size,
        "max_position_embeddings": 512,
        "transformers.js_config": {"dtype": "q8"},
        "trident": {
            "artifact": f"{manifest['name']}-{manifest['version']}",
            "head": head_name,
            "encoder_sha256": manifest["encoder"]["sha256"],
            "case_ids": f"computed in-graph from input_ids by {CASE_TABLE}: the casing class of lower-case text",
        },
    }
    if spec["task"] != "answers":
        config["id2label"] = {str(i): label for i, label in enumerate(labels)}
        config["label2id"] = {label: i for i, label in enumerate(labels)}
        config["num_labels"] = len(labels)
    return config


def tokenizer_config(manifest: dict, tokenizer_json: dict) -> dict:
    return {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": bool(manifest["tokenizer"].get("lowercase", True)),
        "model_max_length": manifest["max_length"],
        "clean_up_tokenization_spaces": True,
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "mask_token": "[MASK]",
    }


def export_peers(artifact: Path, out: Path) -> dict:
    """Writes one folder per head under `out` and `out/peers.json`; returns the peers.json content."""
    artifact = Path(artifact)
    out = Path(out)
    manifest = json.loads((artifact / "manifest.json").read_text(encoding="utf-8"))
    encoder_file = artifact / manifest["encoder"]["file"]
    if sha256(encoder_file) != manifest["encoder"]["sha256"]:
        raise ValueError(f"{encoder_file}: sha256 differs from manifest.json")
    encoder = onnx.load(str(encoder_file))
    tokenizer_json = json.loads((artifact / manifest["tokenizer"]["file"]).read_text(encoding="utf-8"))
    # Transformers.js pads and truncates itself (model_max_length); the artifact's file has both off.
    tokenizer_json["padding"] = None
    tokenizer_json["truncation"] = None
    table = case_table(tokenizer_json)
    written = {}
    for head_name, spec in manifest["heads"].items():
        tensors = load_file(str(artifact / spec["file"]))
        folder = out / head_name
        (folder / "onnx").mkdir(parents=True, exist_ok=True)
        onnx.save(head_graph(encoder, spec, tensors, table), str(folder / "onnx" / "model_quantized.onnx"))
        (folder / "config.json").write_text(json.dumps(config_json(manifest, head_name, spec, len(table)), indent=2))
        (folder / "tokenizer.json").write_text(json.dumps(tokenizer_json, ensure_ascii=False), encoding="utf-8")
        (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(manifest, tokenizer_json), indent=2))
        written[head_name] = {"task": spec["task"], "architecture": ARCHITECTURES[spec["task"]]}
    peers = {
        "artifact": f"{manifest['name']}-{manifest['version']}",
        "artifact_dir": str(artifact.resolve()),
        "encoder_sha256": manifest["encoder"]["sha256"],
        "heads": written,
    }
    (out / "peers.json").write_text(json.dumps(peers, indent=2))
    return peers


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--artifact", type=Path, required=True, help="Trident artifact folder (manifest.json)")
    p.add_argument("--out", type=Path, required=True, help="folder for the peer models (one sub-folder per head)")
    a = p.parse_args()
    peers = export_peers(a.artifact.expanduser(), a.out.expanduser())
    print(f"wrote {', '.join(peers['heads'])} under {a.out} from {peers['artifact']}")


if __name__ == "__main__":
    main()
