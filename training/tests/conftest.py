import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from trident_training.paths import base_model_dir, data_dir  # noqa: E402

# What the data-reader and recipe tests need; the skip reason and the summary line both say it.
SHARED_DATA = "the shared data sets (SST-2, CoNLL-2003, SQuAD v1.1, banking77)"


@pytest.fixture(scope="session")
def data_root():
    root = data_dir()
    if not (root / "SOURCES.md").is_file():
        pytest.skip(f"needs {SHARED_DATA} at {root}; set TRIDENT_DATA_DIR")
    return root


def pytest_terminal_summary(terminalreporter):
    """One line naming the data that the skipped tests need, so a short summary says why they skipped."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if SHARED_DATA in str(r.longrepr)]
    if skipped:
        names = ", ".join(r.nodeid.split("::")[-1] for r in skipped)
        terminalreporter.write_line(
            f"{len(skipped)} skipped ({names}): they need {SHARED_DATA} at {data_dir()}; "
            "set TRIDENT_DATA_DIR to run them"
        )


@pytest.fixture(scope="session")
def tokenizer():
    from trident_training.text import load_tokenizer

    return load_tokenizer(base_model_dir() / "tokenizer.json")
