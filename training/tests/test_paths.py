"""Checkpoints live outside the work tree; a run interrupted before that moved resumes where it was."""

from trident_training import paths


def test_checkpoints_under_the_training_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIDENT_TRAINING_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(paths, "TRAINING_DIR", tmp_path / "repo" / "training")
    assert paths.checkpoint_dir("trident-multitask-1.2.0") == tmp_path / "cache" / "trident-multitask-1.2.0"


def test_default_is_under_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("TRIDENT_TRAINING_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(paths, "TRAINING_DIR", tmp_path / "repo" / "training")
    assert paths.checkpoint_dir("k") == tmp_path / ".cache" / "trident" / "training" / "k"


def test_an_earlier_in_tree_checkpoint_is_resumed(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIDENT_TRAINING_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(paths, "TRAINING_DIR", tmp_path / "repo" / "training")
    earlier = tmp_path / "repo" / "training" / "checkpoints" / "k"
    earlier.mkdir(parents=True)
    (earlier / "last.pt").write_bytes(b"x")
    assert paths.checkpoint_dir("k") == earlier
    # Once the cache holds one, that one wins.
    (tmp_path / "cache" / "k").mkdir(parents=True)
    (tmp_path / "cache" / "k" / "last.pt").write_bytes(b"y")
    assert paths.checkpoint_dir("k") == tmp_path / "cache" / "k"
