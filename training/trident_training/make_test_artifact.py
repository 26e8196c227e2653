"""Writes model/test-artifact/: a tiny randomly initialised BERT with the real MiniLM tokenizer and
all four kinds of head, exported and int8-quantized exactly as the real recipe does.

    python -m trident_training.make_test_artifact [--out model/test-artifact] [--quantization dynamic|static]

It exists so the runtime's tests run without the released model; its predictions are meaningless.
Small windows (max_length 32, stride 8) make the long parity text span several windows; the no-answer
threshold (0.027) is set so that the parity fixture holds both answered and unanswered questions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .export import PARITY_INPUTS, write_artifact
from .modeling import MultitaskModel, tiny_bert
from .paths import REPO_ROOT, base_model_dir

ENTITY_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
TEST_CATEGORIES = ["activate_my_card", "card_arrival", "lost_or_stolen_card", "declined_card_payment", "exchange_rate"]


def build(
    out: Path,
    seed: int = 1234,
    casing: bool = True,
    hidden: int = 32,
    parity_inputs=None,
    quantization: str = "dynamic",
    keep_fp32: Path | None = None,
) -> dict:
    """The static quantisation calibrates on the parity texts (every task's kind of text)."""
    torch.manual_seed(seed)
    base = base_model_dir()
    from .text import load_tokenizer

    vocab = load_tokenizer(base / "tokenizer.json").get_vocab_size()
    bert = tiny_bert(vocab, seed, hidden=hidden)
    heads = {
        "sentiment": ("sentiment", ["negative", "positive"]),
        "entities": ("entities", ENTITY_LABELS),
        "answers": ("answers", ["start", "end"]),
        "banking77": ("categories", TEST_CATEGORIES),
    }
    model = MultitaskModel(bert, heads, casing=casing)
    # Random heads with spread-out logits, so labels do not hinge on near-ties.
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for head in model.heads.values():
            for layer in head.values():
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=g) * 0.6)
                layer.bias.copy_(torch.randn(layer.bias.shape, generator=g) * 0.3)
        if casing:
            model.encoder.case_embeddings.weight.copy_(
                torch.randn(model.encoder.case_embeddings.weight.shape, generator=g) * 0.5
            )
    extra = {
        "entities": {"aggregation": "first"},
        "answers": {"max_answer_tokens": 30, "no_answer_threshold": 0.027, "max_question_tokens": 16},
        "banking77": {"top_k": 3},
    }
    return write_artifact(
        model,
        out,
        name="trident-test",
        version="0.0.1",
        tokenizer_src=base / "tokenizer.json",
        base_encoder=f"random tiny BERT ({bert.config.num_hidden_layers} layers, hidden {hidden}, seed {seed}) "
        "with the tokenizer of sentence-transformers/all-MiniLM-L6-v2",
        max_length=32,
        stride=8,
        head_extra=extra,
        parity_inputs=parity_inputs if parity_inputs is not None else PARITY_INPUTS,
        quantization=quantization,
        calibration=PARITY_INPUTS,
        keep_fp32=keep_fp32,
        training={
            "command": "python -m trident_training.make_test_artifact",
            "seconds": 0,
            "params": {
                "seed": seed,
                "hidden": hidden,
                "layers": 2,
                "casing": casing,
                "note": "random weights, not trained",
            },
            "data": [],
        },
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(REPO_ROOT / "model" / "test-artifact"))
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--quantization", choices=["dynamic", "static"], default="dynamic")
    args = p.parse_args()
    torch.set_num_threads(2)
    manifest = build(Path(args.out), seed=args.seed, quantization=args.quantization)
    print(f"wrote {args.out} ({manifest['name']} {manifest['version']})")


if __name__ == "__main__":
    main()
