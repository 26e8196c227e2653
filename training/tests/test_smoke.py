"""The whole recipe on a tiny random model and a few examples: train, evaluate, export, quantize,
evaluate int8, write an artifact that passes the contract checks, then resume from the checkpoint."""

import json

from trident_training import train

from .test_artifacts import check_manifest


def test_recipe_smoke(data_root, tmp_path):
    argv = [
        "--base",
        "tiny",
        "--sst2-examples",
        "48",
        "--conll-examples",
        "48",
        "--squad-examples",
        "24",
        "--banking77-examples",
        "96",
        "--imdb-examples",
        "16",
        "--imdb-epochs",
        "1",
        "--spread-tasks",
        "imdb",
        "--window-aggregation",
        "auto",
        "--aggregation-slice",
        "12",
        "--final-eval-limit",
        "16",
        "--mid-evals",
        "1",
        "--mid-eval-limit",
        "8",
        "--max-length",
        "64",
        "--stride",
        "16",
        "--max-question-tokens",
        "24",
        "--out",
        str(tmp_path / "art"),
        "--run-dir",
        str(tmp_path / "run"),
        "--checkpoint-dir",
        str(tmp_path / "ckpt"),
        "--mlflow",
        "false",
        "--threads",
        "1",
    ]
    cfg = train.parse_args(argv)
    manifest = train.run(cfg, "smoke")
    art = tmp_path / "art"
    m = check_manifest(art)
    assert m == manifest
    assert set(m["metrics"]) == {"fp32", "int8"}
    for kind in ("fp32", "int8"):
        assert set(m["metrics"][kind]) == {
            "sst2/dev",
            "conll2003/testa",
            "squad_v1.1/dev-articles-00-31",
            "banking77/validation",
            "imdb/dev-10pct",
        }
        # 16 dev reviews: the length buckets present among them are reported beside the whole split
        assert {"accuracy", "accuracy_short"} <= set(m["metrics"][kind]["imdb/dev-10pct"])
    # "auto": the aggregation measured best on unseen IMDB train reviews is the sentiment head's rule
    choice = m["training"]["window_aggregation"]
    assert m["heads"]["sentiment"]["window_aggregation"] == choice["chosen"]
    assert set(choice["accuracy"]) == {"mean-probabilities", "mean-logits", "length-weighted"}
    assert any(d["path"] == "imdb/train.jsonl.gz" and "16 reviews used" in d["used"] for d in m["training"]["data"])
    assert m["casing"] == {"input": "case_ids", "classes": 5}
    assert len(m["heads"]["banking77"]["labels"]) == 77
    assert {d["path"] for d in m["training"]["data"]} >= {"sst2/train.tsv", "conll2003/eng.train"}
    parity = json.loads((art / "parity.json").read_text(encoding="utf-8"))
    assert len(parity["expected"]["int8"]) == len(parity["inputs"])
    assert (tmp_path / "ckpt" / "last.pt").is_file()
    # a second run with the same settings resumes at the end and only re-exports
    again = train.run(cfg, "smoke")
    assert again["heads"].keys() == m["heads"].keys()
