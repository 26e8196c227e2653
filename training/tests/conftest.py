import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from trident_training.paths import base_model_dir, data_dir  # noqa: E402


@pytest.fixture(scope="session")
def data_root():
    root = data_dir()
    if not (root / "SOURCES.md").is_file():
        pytest.skip(f"shared data not found at {root} (set TRIDENT_DATA_DIR); data-reader tests skipped")
    return root


@pytest.fixture(scope="session")
def tokenizer():
    from trident_training.text import load_tokenizer

    return load_tokenizer(base_model_dir() / "tokenizer.json")
