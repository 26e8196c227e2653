"""Task mixing of the batch plan: the same batches either way, only their order differs."""

from types import SimpleNamespace

import pytest

from trident_training.train import Config, batch_plan


def feats(n: int):
    return [SimpleNamespace(window=SimpleNamespace(input_ids=[0] * (5 + i % 7))) for i in range(n)]


def plan(mixing: str):
    cfg = Config(mixing=mixing, batch_size=4, squad_batch_size=2)
    return batch_plan(cfg, {"sst2": feats(40), "conll": feats(12), "squad": feats(6), "banking77": feats(8)})


def test_round_robin_takes_turns_until_a_task_runs_out():
    tasks = [t for t, _ in plan("round-robin")]
    # 10 sst2, 3 conll, 3 squad, 2 banking77 batches: turns of four, then the larger tasks alone.
    assert tasks[:4] == ["sst2", "conll", "squad", "banking77"]
    assert tasks[4:8] == ["sst2", "conll", "squad", "banking77"]
    assert tasks[8:11] == ["sst2", "conll", "squad"]
    assert tasks[11:] == ["sst2"] * 7


def test_both_mixings_hold_the_same_batches():
    def key(p):
        return sorted((t, tuple(b)) for t, b in p)

    assert key(plan("round-robin")) == key(plan("sized"))
    assert [t for t, _ in plan("sized")] != [t for t, _ in plan("round-robin")]


def test_unknown_mixing_is_refused():
    with pytest.raises(SystemExit, match="--mixing"):
        plan("alternate")


def test_spread_tasks_are_placed_evenly_over_the_whole_run():
    cfg = Config(
        mixing="round-robin", batch_size=4, squad_batch_size=2, imdb_batch_size=2, imdb_epochs=1.0, spread_tasks="imdb"
    )
    all_feats = {"sst2": feats(40), "conll": feats(12), "squad": feats(6), "banking77": feats(8), "imdb": feats(8)}
    tasks = [t for t, _ in batch_plan(cfg, all_feats)]
    where = [i for i, t in enumerate(tasks) if t == "imdb"]
    # 18 round-robin batches and 4 imdb batches: imdb batch k after (k + 0.5) / 4 of them (2, 6, 11, 15).
    assert len(tasks) == 22 and len(where) == 4
    assert where == [2, 7, 13, 18]
    others = [t for t in tasks if t != "imdb"]
    assert others == [t for t, _ in plan("round-robin")]


def test_unknown_spread_task_is_refused():
    cfg = Config(spread_tasks="imbd")
    with pytest.raises(SystemExit, match="--spread-tasks"):
        batch_plan(cfg, {"sst2": feats(8)})
