"""A run interrupted and resumed from its checkpoint ends with exactly the weights of a run that never
stopped: the batch plan is a pure function of the seed, and the checkpoint holds the model, the
optimiser, the schedule, the RNG state and the step."""

import torch

from trident_training import train


def tiny_argv(tmp_path, name: str) -> list[str]:
    return [
        "--base", "tiny", "--threads", "1", "--mlflow", "false", "--mid-evals", "0",
        "--sst2-examples", "64", "--conll-examples", "32", "--squad-examples", "8", "--banking77-examples", "64",
        "--imdb-examples", "8", "--imdb-epochs", "1", "--spread-tasks", "imdb",
        "--max-length", "64", "--stride", "16", "--max-question-tokens", "24",
        "--run-dir", str(tmp_path / name / "run"), "--checkpoint-dir", str(tmp_path / name / "ckpt"),
        "--out", str(tmp_path / name / "art"), "--train-only", "true",
    ]  # fmt: skip


def weights(tmp_path, name: str) -> tuple[dict, int]:
    saved = torch.load(tmp_path / name / "ckpt" / "last.pt", weights_only=False)
    return saved["model"], saved["step"]


def test_resumed_run_equals_uninterrupted_run(data_root, tmp_path):
    train.run(train.parse_args(tiny_argv(tmp_path, "straight")), "straight")
    straight, total = weights(tmp_path, "straight")
    assert total > 6

    interrupted = tiny_argv(tmp_path, "resumed")
    train.run(train.parse_args(interrupted + ["--stop-after-steps", "5"]), "first part")
    part, step = weights(tmp_path, "resumed")
    assert step == 5
    assert any(not torch.equal(part[k], straight[k]) for k in straight)  # really stopped early

    train.run(train.parse_args(interrupted), "resumed")
    resumed, step = weights(tmp_path, "resumed")
    assert step == total
    assert resumed.keys() == straight.keys()
    for k in straight:
        assert torch.equal(resumed[k], straight[k]), k
