"""The cross-CPU parity rules on hand-made outputs (the cases mirror model/parity.test.ts)."""

import copy

import pytest

from trident_training.parity_check import (
    CROSS_PATH_TOLERANCE,
    DECISION_MARGIN,
    PARITY_TOLERANCE,
    SAME_PATH_TOLERANCE,
    NearTies,
    compare_fixture,
    compare_outputs,
    tolerance_for,
)
from trident_training.parity_fixture import kernel_path, reproduction_error

BASE = {
    "id": "x",
    "sentiment": {"label": "positive", "scores": {"negative": 0.2, "positive": 0.8}},
    "entities": [
        {"label": "PER", "text": "Ann", "start": 0, "end": 3, "score": 0.9},
        {"label": "LOC", "text": "Rome", "start": 12, "end": 16, "score": 0.95},
    ],
    "answers": [
        {"question": "q", "answer": None, "start": None, "end": None, "score": 0.01},
        {"question": "who", "answer": "Ann", "start": 0, "end": 3, "score": 0.6},
    ],
    "categories": {
        "intents": [
            {"label": "a", "score": 0.5},
            {"label": "b", "score": 0.3},
            {"label": "c", "score": 0.1},
            {"label": "d", "score": 0.097},
        ]
    },
}


def base():
    return copy.deepcopy(BASE)


def paths(expected, actual, **kw):
    return [d.path for d in compare_outputs(expected, actual, **kw)]


def test_probabilities_within_tolerance_pass_and_one_beyond_fails():
    actual = base()
    actual["sentiment"]["scores"]["positive"] += PARITY_TOLERANCE * 0.9
    actual["entities"][0]["score"] -= PARITY_TOLERANCE * 0.9
    actual["answers"][1]["score"] += PARITY_TOLERANCE * 0.9
    actual["categories"]["intents"][1]["score"] -= PARITY_TOLERANCE * 0.9
    assert compare_outputs(base(), actual) == []
    actual["entities"][1]["score"] += PARITY_TOLERANCE * 1.5
    assert paths(base(), actual) == ["x.entities[12:16 LOC].score"]


def test_uses_the_tolerance_it_is_given():
    actual = base()
    actual["sentiment"]["scores"]["positive"] += 0.002
    actual["sentiment"]["scores"]["negative"] -= 0.002
    assert paths(base(), actual, tolerance=1e-3) == ["x.sentiment.scores.negative", "x.sentiment.scores.positive"]


def test_reports_changed_decisions_when_nothing_was_a_near_tie():
    actual = base()
    actual["sentiment"]["label"] = "negative"
    actual["entities"][0] = {**actual["entities"][0], "end": 4, "text": "Ann "}
    actual["answers"][0] = {**actual["answers"][0], "answer": "x", "start": 0, "end": 1}
    del actual["categories"]
    assert paths(base(), actual) == [
        "x.<tasks>",
        "x.sentiment.label",
        "x.entities[0:3 PER]",
        "x.entities[0:4 PER]",
        "x.answers[0].answer",
        "x.answers[0].start",
        "x.answers[0].end",
    ]
    assert paths(base(), {**base(), "entities": []}) == ["x.entities[0:3 PER]", "x.entities[12:16 LOC]"]


def test_near_tied_sentiment_label_may_flip_and_a_clear_one_may_not():
    tie = {"id": "x", "sentiment": {"label": "positive", "scores": {"negative": 0.497, "positive": 0.503}}}
    flipped = {"id": "x", "sentiment": {"label": "negative", "scores": {"negative": 0.5005, "positive": 0.4995}}}
    assert compare_outputs(tie, flipped) == []
    clear = {"id": "x", "sentiment": {"label": "positive", "scores": {"negative": 0.49, "positive": 0.51}}}
    assert 0.51 - 0.49 > DECISION_MARGIN
    wrong = {"id": "x", "sentiment": {"label": "negative", "scores": {"negative": 0.49, "positive": 0.51}}}
    assert paths(clear, wrong) == ["x.sentiment.label"]


def test_near_tied_category_ranks_may_swap_but_clear_ranks_may_not():
    swapped = base()
    swapped["categories"]["intents"][2:] = [{"label": "d", "score": 0.099}, {"label": "c", "score": 0.098}]
    assert compare_outputs(base(), swapped) == []
    entered = base()
    entered["categories"]["intents"][3] = {"label": "e", "score": 0.0975}
    assert compare_outputs(base(), entered) == []
    clear = base()
    clear["categories"]["intents"][:2] = [{"label": "b", "score": 0.5}, {"label": "a", "score": 0.3}]
    assert paths(base(), clear) == [
        "x.categories.intents[0].label",
        "x.categories.intents[1].label",
        "x.categories.intents.b.score",
        "x.categories.intents.a.score",
    ]
    entering = base()
    entering["categories"]["intents"][1] = {"label": "e", "score": 0.3}
    assert paths(base(), entering) == ["x.categories.intents[1].label"]


def test_entities_overlapping_a_near_tie_range_are_exempt_and_only_those():
    actual = base()
    actual["entities"][0] = {"label": "PER", "text": "Ann B", "start": 0, "end": 5, "score": 0.7}
    assert compare_outputs(base(), actual, NearTies(entity_ranges=((2, 7),))) == []
    assert paths(base(), actual, near_ties=NearTies(entity_ranges=((20, 25),))) == [
        "x.entities[0:3 PER]",
        "x.entities[0:5 PER]",
    ]


def test_near_tie_answers_are_exempt_from_span_checks_never_from_the_score():
    actual = base()
    actual["answers"][1] = {**actual["answers"][1], "answer": "Rome", "start": 12, "end": 16}
    assert compare_outputs(base(), actual, NearTies(answers=(1,))) == []
    assert paths(base(), actual, near_ties=NearTies(answers=(0,))) == [
        "x.answers[1].answer",
        "x.answers[1].start",
        "x.answers[1].end",
    ]
    actual["answers"][1]["score"] = 0.5
    assert paths(base(), actual, near_ties=NearTies(answers=(1,))) == ["x.answers[1].score"]


VNNI = {"int8_gemm": "avx512_vnni"}


def test_compare_fixture_uses_each_inputs_near_ties_and_accepts_old_fixtures():
    actual = base()
    actual["answers"][1] = {**actual["answers"][1], "answer": "Rome", "start": 12, "end": 16}
    old = {"expected": {"int8": [base()]}, "kernel": VNNI}
    assert [d.path for d in compare_fixture(old, [actual], "avx512_vnni")] == [
        "x.answers[1].answer",
        "x.answers[1].start",
        "x.answers[1].end",
    ]
    new = {**old, "near_ties": {"epsilon": 0.4, "inputs": {"x": {"answers": [[1, 0.004]]}}}}
    assert compare_fixture(new, [actual], "avx512_vnni") == []
    # A near tie recorded with a margin wider than this comparison's is not exempt.
    wide = {**old, "near_ties": {"epsilon": 0.4, "inputs": {"x": {"answers": [[1, 0.3]]}}}}
    assert len(compare_fixture(wide, [actual], "avx512_vnni")) == 3
    with pytest.raises(ValueError, match="near ties within 0.001"):
        compare_fixture({**old, "near_ties": {"epsilon": 1e-3, "inputs": {}}}, [base()], "avx512_vnni")


def test_tolerance_depends_on_whether_the_int8_paths_are_of_one_kind():
    assert tolerance_for(VNNI, "avx512_vnni") == SAME_PATH_TOLERANCE
    assert tolerance_for(VNNI, "neon_dotprod") == SAME_PATH_TOLERANCE
    assert tolerance_for({"int8_gemm": "avx2 (u8s8 saturating)"}, "avx512bw (u8s8 saturating)") == SAME_PATH_TOLERANCE
    assert tolerance_for(VNNI, "avx2 (u8s8 saturating)") == CROSS_PATH_TOLERANCE
    assert tolerance_for(None, "avx512_vnni") == CROSS_PATH_TOLERANCE  # an old fixture: its path is unknown
    assert tolerance_for(VNNI, "unknown") == CROSS_PATH_TOLERANCE
    moved = base()
    moved["sentiment"]["scores"] = {"negative": 0.25, "positive": 0.75}  # Δ 0.05: beyond same-path, within cross-path
    fixture = {"expected": {"int8": [base()]}, "kernel": VNNI}
    assert [d.path for d in compare_fixture(fixture, [moved], "avx512_vnni")] == [
        "x.sentiment.scores.negative",
        "x.sentiment.scores.positive",
    ]
    assert compare_fixture(fixture, [moved], "avx2 (u8s8 saturating)") == []


def test_kernel_path_names_the_int8_gemm_of_each_cpu_kind():
    assert kernel_path({"avx2", "avx512bw", "avx512_vnni", "sse4_1"}, "x86_64")["int8_gemm"] == "avx512_vnni"
    assert kernel_path({"avx2", "avx_vnni"}, "x86_64")["int8_gemm"] == "avx_vnni"
    assert kernel_path({"avx2", "fma", "sse4_1"}, "x86_64")["int8_gemm"] == "avx2 (u8s8 saturating)"
    assert kernel_path({"asimd", "asimddp"}, "aarch64")["int8_gemm"] == "neon_dotprod"
    assert kernel_path(set(), "x86_64") == {**kernel_path(set(), "x86_64"), "int8_gemm": "sse2", "cpu_flags": []}


def test_reproduction_error_finds_the_first_moved_value():
    assert reproduction_error(BASE, base()) is None
    moved = base()
    moved["entities"][1]["score"] += 1e-4
    assert reproduction_error(BASE, moved, "x").startswith("x.entities[1].score: 0.95 vs 0.9501")
