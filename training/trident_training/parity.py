"""Rewrites an artifact's parity.json from its training checkpoint (fp32, PyTorch) and its int8
encoder (ONNX Runtime), with the current parity inputs (export.PARITY_INPUTS).

    python -m trident_training.parity --artifact model/artifacts/<name>-<version> \\
        --checkpoint ~/.cache/trident/training/<name>-<version>/last.pt

Refuses when the checkpoint's heads are not the artifact's heads (so fp32 and int8 are one model).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

from .export import PARITY_INPUTS, write_parity
from .inference import Model, TorchEncoder
from .modeling import MultitaskModel, load_base
from .paths import base_model_dir


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--artifact", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    folder = Path(args.artifact)
    int8 = Model.from_artifact(folder, threads=args.threads)
    specs = {name: (h.spec["task"], h.spec["labels"]) for name, h in int8.heads.items()}
    model = MultitaskModel(load_base(base_model_dir()), specs, casing=bool(int8.manifest["casing"]))
    state = torch.load(args.checkpoint, weights_only=False)
    model.load_state_dict(state["model"])
    model.eval()
    for name, head in int8.heads.items():
        for k, v in model.heads[name].state_dict().items():
            if not np.array_equal(v.numpy(), head.tensors[k]):
                raise SystemExit(f"checkpoint head {name}.{k} differs from {folder / head.spec['file']}")
    fp32 = Model(int8.manifest, int8.tokenizer, int8.heads, TorchEncoder(model.encoder))
    write_parity(folder, fp32, int8, PARITY_INPUTS)
    print(f"wrote {folder / 'parity.json'} ({len(PARITY_INPUTS)} inputs)")


if __name__ == "__main__":
    main()
