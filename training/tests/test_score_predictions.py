"""score_predictions (the Python side of the TypeScript evaluator's parity test) and profile_texts,
on hand-computed cases; standard library only."""

import json

from trident_training import profile_texts
from trident_training.score_predictions import ece, score, span_tags


def test_span_tags_mark_exact_chunks():
    tags = span_tags([{"label": "PER", "start": 0, "end": 3}, {"label": "LOC", "start": 3, "end": 5}], 6)
    assert tags == ["B-PER", "I-PER", "I-PER", "B-LOC", "I-LOC", "O"]


def test_ece_by_hand():
    # as model/evaluation/metrics.test.ts: 0.95 ×2 (one right), 0.5 ×2 (both right)
    assert abs(ece([0.95, 0.95, 0.5, 0.5], [True, False, True, True]) - (0.5 * 0.45 + 0.5 * 0.5)) < 1e-12
    assert ece([], []) == 0.0


def test_score_reads_prediction_lines():
    lines = [
        {
            "id": "a",
            "model": "m",
            "gold": {"sentiment": "positive", "entities": [{"label": "PER", "start": 0, "end": 3}]},
            "output": {
                "sentiment": {"label": "positive", "scores": {"negative": 0.1, "positive": 0.9}},
                "entities": [
                    {"label": "PER", "start": 0, "end": 3, "score": 0.8},
                    {"label": "LOC", "start": 5, "end": 9, "score": 0.6},
                ],
            },
        },
        {
            "id": "b",
            "model": "m",
            "gold": {"sentiment": "negative", "answers": {"Where?": ["in Paris", "Paris"]}},
            "output": {
                "sentiment": {"label": "positive", "scores": {"negative": 0.3, "positive": 0.7}},
                "answers": [{"question": "Where?", "answer": "Paris", "score": 0.5}],
            },
        },
        {"id": "c", "model": "m", "error": {"code": "INPUT_TEXT_TOO_LONG", "message": "x"}},
    ]
    out = score(lines, {"sentiment": ["negative", "positive"]}, [])
    assert out["sentiment"]["n"] == 2 and out["sentiment"]["accuracy"] == 0.5
    assert out["entities"]["precision"] == 0.5 and out["entities"]["recall"] == 1.0
    assert out["answers"] == {"n": 1, "exact_match": 1.0, "f1": 1.0, "ece": 0.5}


def test_profile_sample_is_seeded(tmp_path, data_root):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert profile_texts.write_sample(a, 5, 13, data_root) == 20
    profile_texts.write_sample(b, 5, 13, data_root)
    assert a.read_text() == b.read_text()
    rows = [json.loads(line) for line in a.read_text().splitlines()]
    assert sum(1 for r in rows if r.get("questions")) == 5
