"""Writes a model artifact (model/README.md): ONNX encoder, int8 quantization, heads, tokenizer,
manifest with digests, and the parity fixture."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from . import FORMAT
from .data import file_sha256 as sha256
from .inference import Model, OrtEncoder, TorchEncoder
from .modeling import Encoder, MultitaskModel, eager_copy, head_layers
from .parity_fixture import fixture_metadata
from .text import write_tokenizer

OPSET = 17


def input_names(casing: bool) -> list[str]:
    return ["input_ids", "attention_mask", "token_type_ids"] + (["case_ids"] if casing else [])


def export_onnx(encoder: Encoder, path: Path) -> None:
    """fp32 ONNX, opset 17, dynamic batch and sequence axes (TorchScript exporter, eager attention)."""
    enc = eager_copy(encoder)
    names = input_names(enc.casing)
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 2023, 102, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    args = (ids, mask, torch.zeros_like(ids)) + ((torch.ones_like(ids),) if enc.casing else ())
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            enc,
            args,
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


QUANTIZATIONS = ("dynamic", "static")


def quantize(fp32: Path, int8: Path) -> None:
    """Dynamic int8, per-channel weights (per-tensor lost too much: token cosine 0.950 vs 0.989)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        quantize_dynamic(str(pre), str(int8), weight_type=QuantType.QInt8, per_channel=True)


def quantize_encoder(
    fp32: Path,
    int8: Path,
    method: str,
    calibration: list[dict] | None,
    *,
    tokenizer_src: Path,
    max_length: int,
    stride: int,
    max_question_tokens: int,
    casing: bool,
) -> tuple[dict, dict]:
    """int8 by `method` ("dynamic" or "static"). Returns (the manifest's quantization record, what the
    static calibration did, for the export checks). `calibration`: items like the parity inputs
    ({"text", "questions"?}), texts of every task; only the static method uses them."""
    from .quantize_static import DYNAMIC, STATIC, calibration_windows, quantize_static_int8, unpadded_feeds
    from .text import load_tokenizer

    if method == "dynamic":
        quantize(fp32, int8)
        return dict(DYNAMIC), {}
    if method != "static":
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {method!r}")
    windows = calibration_windows(
        load_tokenizer(tokenizer_src), calibration or [], max_length, stride, max_question_tokens
    )
    done = quantize_static_int8(fp32, int8, list(unpadded_feeds(windows, casing)))
    return dict(STATIC), done


def export_checks(encoder: Encoder, fp32: Path, int8: Path, tokenizer_src: Path, max_length: int, threads: int) -> dict:
    """PyTorch vs ONNX fp32 vs ONNX int8 on a padded batch of the parity texts (real tokens only)."""
    from .text import load_tokenizer, pad_batch, text_windows, tokenize

    tok = load_tokenizer(tokenizer_src)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    windows = []
    for item in PARITY_INPUTS:
        windows += text_windows(tokenize(tok, item["text"]), max_length, max_length // 4, cls_id, sep_id)
    feeds = pad_batch(windows, encoder.casing)
    ref = TorchEncoder(encoder)(feeds)
    mask = feeds["attention_mask"].astype(bool)
    a = OrtEncoder(fp32, threads)(feeds)
    b = OrtEncoder(int8, threads)(feeds)
    r, b_ = ref[mask], b[mask]
    cos = (r * b_).sum(-1) / (np.linalg.norm(r, axis=-1) * np.linalg.norm(b_, axis=-1) + 1e-12)
    out = {
        "onnx_fp32_max_abs_diff": float(np.abs(a[mask] - r).max()),
        "int8_token_cosine_mean": float(cos.mean()),
        "int8_token_cosine_min": float(cos.min()),
        "windows": len(windows),
    }
    if out["onnx_fp32_max_abs_diff"] > 1e-3:
        raise RuntimeError(f"ONNX fp32 encoder differs from PyTorch: {out}")
    return out


def head_manifest(name: str, task: str, labels: list[str], file: str, extra: dict) -> dict:
    spec = {
        "task": task,
        "file": file,
        "sha256": "",
        "pooling": "cls" if task in ("sentiment", "categories") else "none",
        "layers": head_layers(task),
        "labels": list(labels),
    }
    spec.update(extra)
    return spec


def write_artifact(
    model: MultitaskModel,
    out: Path,
    *,
    name: str,
    version: str,
    tokenizer_src: Path,
    base_encoder: str,
    max_length: int,
    stride: int,
    head_extra: dict[str, dict],
    parity_inputs: list[dict],
    metrics_fn=None,
    training: dict | None = None,
    threads: int = 2,
    keep_fp32: Path | None = None,
    quantization: str = "dynamic",
    calibration: list[dict] | None = None,
) -> dict:
    """Exports everything into `out` (replaced). metrics_fn(fp32_model, int8_model) -> {"fp32": .., "int8": ..}.
    quantization: "dynamic" or "static" (calibrated on `calibration`, items of every task; see
    quantize_static.py).

    Returns the manifest.
    """
    from safetensors.torch import save_file

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
    if out.exists():
        shutil.rmtree(out)
    (out / "heads").mkdir(parents=True)
    model = model.eval()
    casing = model.encoder.casing

    write_tokenizer(tokenizer_src, out / "tokenizer.json")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "encoder.fp32.onnx"
        export_onnx(model.encoder, fp32)
        max_question_tokens = next(
            (
                head_extra[h]["max_question_tokens"]
                for h, (task, _) in model.head_specs.items()
                if task == "answers" and "max_question_tokens" in head_extra.get(h, {})
            ),
            max_length // 4,
        )
        quant, calibrated = quantize_encoder(
            fp32,
            out / "encoder.onnx",
            quantization,
            calibration,
            tokenizer_src=tokenizer_src,
            max_length=max_length,
            stride=stride,
            max_question_tokens=max_question_tokens,
            casing=casing,
        )
        checks = export_checks(model.encoder, fp32, out / "encoder.onnx", tokenizer_src, max_length, threads)
        checks.update(calibrated)
        if keep_fp32 is not None:
            shutil.copy(fp32, keep_fp32)

    heads = {}
    for head_name, (task, labels) in model.head_specs.items():
        file = f"heads/{head_name}.safetensors"
        tensors = {k: v.detach().float().contiguous().clone() for k, v in model.heads[head_name].state_dict().items()}
        save_file(tensors, str(out / file))
        (out / file).chmod(0o644)
        spec = head_manifest(head_name, task, labels, file, head_extra.get(head_name, {}))
        spec["sha256"] = sha256(out / file)
        heads[head_name] = spec

    manifest = {
        "format": FORMAT,
        "name": name,
        "version": version,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "base_encoder": base_encoder,
        "tokenizer": {"file": "tokenizer.json", "sha256": sha256(out / "tokenizer.json"), "lowercase": True},
        "max_length": max_length,
        "stride": stride,
        "encoder": {
            "file": "encoder.onnx",
            "sha256": sha256(out / "encoder.onnx"),
            "inputs": input_names(casing),
            "outputs": ["last_hidden_state"],
            "hidden_size": model.encoder.bert.config.hidden_size,
            # Kept as a string for runtimes that predate the top-level "quantization" record.
            "quantization": f"int8-{quant['method']}",
        },
        # Whether the encoder's outputs depend on the input alone (static) or on the whole batch
        # tensor (dynamic): the runtime batches mixed inputs by default only when they do not.
        "quantization": quant,
        "casing": {"input": "case_ids", "classes": 5} if casing else None,
        "heads": heads,
        "metrics": {},
        "training": dict(training or {}, export_checks=checks),
    }
    write_json(out / "manifest.json", manifest)

    int8_model = Model.from_artifact(out, threads=threads)
    fp32_model = Model.from_artifact(out, threads=threads, encoder=TorchEncoder(model.encoder))
    if metrics_fn is not None:
        manifest["metrics"] = metrics_fn(fp32_model, int8_model)
        write_json(out / "manifest.json", manifest)

    write_parity(out, fp32_model, int8_model, parity_inputs)
    return manifest


def write_profile(out: Path, data_root: Path, per_dataset: int = 250, seed: int = 13) -> bool:
    """The artifact's reference drift profile (profile.json): a seeded sample of the training texts
    through the exported int8 model, by the TypeScript runtime's own profiler
    (model/evaluation/profile-artifact.ts), so the reference and live statistics share one
    implementation. Needs node and a built checkout (`npm run build`); without them it warns and
    returns False (the artifact still works; drift then reports "not available")."""
    import subprocess

    from .paths import REPO_ROOT
    from .profile_texts import write_sample

    script = REPO_ROOT / "dist" / "model" / "evaluation" / "profile-artifact.js"
    if shutil.which("node") is None or not script.exists():
        print(f"profile.json not written: needs node and {script} (npm run build)", flush=True)
        return False
    with tempfile.TemporaryDirectory() as tmp:
        texts = Path(tmp) / "profile-texts.jsonl"
        n = write_sample(texts, per_dataset, seed, data_root)
        source = (
            "training sample: SST-2, CoNLL-2003, SQuAD v1.1, banking77 train splits, "
            f"{per_dataset} each, seed {seed} ({n} texts)"
        )
        subprocess.run(["node", str(script), str(out), str(texts), source], check=True)
    return True


def write_parity(out: Path, fp32_model: Model, int8_model: Model, parity_inputs: list[dict]) -> None:
    tasks = sorted(
        {h.spec["task"] for h in int8_model.heads.values()},
        key=["sentiment", "entities", "answers", "categories"].index,
    )
    parity = {
        "offsets": "utf-16",
        "inputs": parity_inputs,
        "tasks": tasks,
        "expected": {
            "int8": [int8_model.predict(item) for item in parity_inputs],
            "fp32": [fp32_model.predict(item) for item in parity_inputs],
        },
        # Which int8 kernel path wrote these values, and which decisions were near ties (parity_check.py).
        **fixture_metadata(int8_model, parity_inputs),
    }
    write_json(out / "parity.json", parity)


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# Adversarial parity texts: accents, emoji, CJK, runs of whitespace, a long text, questions.
LONG_TEXT = (
    "The Amazon rainforest covers much of the Amazon basin of South America. The basin spans "
    "7,000,000 square kilometres, of which 5,500,000 square kilometres are covered by the rainforest. "
    "The region includes territory belonging to nine nations. The majority of the forest is contained "
    "within Brazil, with 60% of the rainforest, followed by Peru with 13%, Colombia with 10%, and with "
    "minor amounts in Venezuela, Ecuador, Bolivia, Guyana, Suriname and French Guiana. States or "
    'departments in four nations contain "Amazonas" in their names. The Amazon represents over half '
    "of the planet's remaining rainforests, and comprises the largest and most biodiverse tract of "
    "tropical rainforest in the world, with an estimated 390 billion individual trees divided into "
    "16,000 species. Apple Inc. opened an office in São Paulo in 2008, according to Tim Cook."
)

# Several windows even at max_length 256 (about 640 tokens), with entities and answers in every part.
LONG_TEXT_2 = (
    "GENEVA, March 3 (Reuters) - Negotiators from Germany, France and the United States met for a third "
    "day in Geneva on Monday, trying to close the remaining gaps in a draft agreement on nuclear safety "
    "inspections. The talks, hosted by the Swiss Federal Department of Foreign Affairs, began last week "
    "after a report by the International Atomic Energy Agency (IAEA) said that the cooling system of the "
    'reactor at Zaporizhzhia had been running on backup power for nine days. "We are not there yet, '
    "but we are closer than we were on Friday,\" said Annalena Baerbock, Germany's foreign minister, "
    "speaking to reporters outside the Palais des Nations.\n\n"
    "On Tuesday a delegation from Siemens Energy arrived in Lausanne to brief officials on the turbine "
    "contracts that were signed in 2019 and suspended in 2022. Shares of Siemens Energy rose 3.4 percent "
    "in Frankfurt after the company confirmed the meeting, while shares of Électricité de France were "
    "little changed in Paris. Analysts at Deutsche Bank and Goldman Sachs said the agreement, if signed, "
    "could unlock about 4.5 billion euros of delayed orders across Europe and North America.\n\n"
    "The IAEA report, published in Vienna on February 27, said that the reactor was stable but that "
    "inspectors had been denied access to two of its six units for more than a month. Rafael Grossi, the "
    "agency's director general, told the Security Council in New York that the situation remained "
    '"precarious" and called for a permanent inspection mission. Officials in Kyiv and Moscow gave '
    "conflicting accounts of who controlled the access roads.\n\n"
    "The final session in Geneva was chaired by Ignazio Cassis, the Swiss foreign minister, who said "
    "that a signed text could be presented to the United Nations General Assembly in April. Delegates "
    "from Japan, Canada and Brazil attended as observers. Environmental groups, including Greenpeace and "
    "the WWF, said the draft did not go far enough and asked for independent monitoring of radiation "
    "levels along the Dnipro river, which supplies water to millions of people in southern Ukraine. "
    "A spokesman for the European Commission in Brussels said the EU would contribute 120 million euros "
    "to the monitoring programme, and that talks with the World Bank about further funding would "
    "continue in Washington later this month. Reporting by Maria Schmidt in Geneva and John O'Neill in "
    "London; editing by Peter Graff."
)

PARITY_INPUTS = [
    {"id": "p1", "text": "I absolutely loved this film, the acting was wonderful!"},
    {"id": "p2", "text": "Angela Merkel met Emmanuel Macron in Paris on Monday to discuss the European Union budget."},
    {"id": "p3", "text": "José Müller from Zürich wasn't happy with Société Générale's café in Málaga."},
    {"id": "p4", "text": "My card 💳 was declined twice 😡😡 at the ATM — why?? 🤔"},
    {"id": "p5", "text": "北京 is the capital of 中国, and 東京 is in Japan. Samsung 삼성 is Korean."},
    {"id": "p6", "text": "  Multiple   spaces,\ttabs\t\tand\nnew\n\nlines   around  Microsoft   and  Google.  "},
    {
        "id": "p7",
        "text": LONG_TEXT,
        "questions": [
            "How many square kilometres does the basin span?",
            "Which country contains the majority of the forest?",
            "Who opened an office in São Paulo?",
        ],
    },
    {
        "id": "p8",
        "text": "I lost my card yesterday and I need a new one sent to my address.",
        "questions": ["What did I lose?"],
    },
    {
        "id": "p9",
        "text": "U.S. President Bill Clinton visited the UN headquarters in New York ; NASA and the EU were not there.",
    },
    {"id": "p10", "text": ""},
    {
        "id": "p11",
        "text": LONG_TEXT_2,
        "questions": [
            "Where did the delegation from Siemens arrive on Tuesday?",
            "What did the IAEA report say about the reactor?",
            "Who chaired the final session in Geneva?",
        ],
    },
]
