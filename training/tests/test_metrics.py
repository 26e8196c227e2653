import pytest

from trident_training import metrics as M


def test_classification_hand_computed():
    gold = [0, 0, 1, 1, 1, 2]
    pred = [0, 1, 1, 1, 0, 2]
    r = M.classification(gold, pred, ["a", "b", "c"])
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["per_class"]["a"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert r["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert r["per_class"]["b"]["recall"] == pytest.approx(2 / 3)
    assert r["per_class"]["c"]["f1"] == 1.0
    assert r["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert r["confusion_matrix"]["rows_gold_cols_pred"] == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]


def test_chunks_follow_conlleval():
    assert M.bio_chunks(["B-PER", "I-PER", "O", "B-LOC"]) == {(0, 2, "PER"), (3, 4, "LOC")}
    # a stray I- starts a chunk; a type change inside I- starts another
    assert M.bio_chunks(["I-ORG", "I-ORG", "I-LOC"]) == {(0, 2, "ORG"), (2, 3, "LOC")}
    assert M.bio_chunks(["B-PER", "B-PER"]) == {(0, 1, "PER"), (1, 2, "PER")}
    assert M.bio_chunks(["O", "O"]) == set()


def test_entity_f1_exact_span_and_type():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "O", "O", "B-LOC"], ["B-MISC", "O"]]
    r = M.entity_f1(gold, pred)
    # 3 gold, 3 predicted, 1 correct (LOC): truncated PER and wrong type ORG count as errors
    assert r["precision"] == pytest.approx(1 / 3)
    assert r["recall"] == pytest.approx(1 / 3)
    assert r["f1"] == pytest.approx(1 / 3)
    assert r["per_type"]["LOC"]["f1"] == 1.0 and r["per_type"]["PER"]["f1"] == 0.0
    perfect = M.entity_f1(gold, gold)
    assert perfect["f1"] == 1.0


def test_squad_official_normalization_and_scores():
    assert M.normalize_answer("The  Quick, brown fox!") == "quick brown fox"
    assert M.normalize_answer("an Apple a day") == "apple day"
    assert M.squad_em("the Denver Broncos", "Denver Broncos") == 1.0
    # prediction "denver broncos won" vs truth "denver broncos": p=2/3, r=1 -> f1=0.8
    assert M.squad_f1("Denver Broncos won", "Denver Broncos") == pytest.approx(0.8)
    assert M.squad_f1("", "Denver") == 0.0
    r = M.squad(["Denver Broncos", "Carolina"], [["Denver Broncos", "Broncos"], ["Carolina Panthers"]])
    assert r["exact_match"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx((1.0 + 2 / 3) / 2)
