"""export_peers: the appended head reproduces the numpy head on the encoder's output, and the
in-graph case_ids equal what Trident feeds for lower-case text."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from trident_training.export_peers import case_table, export_peers
from trident_training.inference import Model, softmax
from trident_training.paths import REPO_ROOT
from trident_training.text import CASE_NONE, tokenize

ARTIFACT = REPO_ROOT / "model" / "test-artifact"
TEXTS = ["the film is a charming and often affecting journey.", "angela merkel visited paris in 2019!"]
QUESTION = "who visited paris?"


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    out = tmp_path_factory.mktemp("peers")
    export_peers(ARTIFACT, out)
    return out


@pytest.fixture(scope="module")
def model():
    return Model.from_artifact(ARTIFACT)


def feeds_for(model, text, question=None):
    """[CLS] text [SEP] (or [CLS] question [SEP] text [SEP]) with Trident's own case_ids."""
    cls_id, sep_id = model.special
    t = tokenize(model.tokenizer, text)
    ids, types, cases = [cls_id], [0], [CASE_NONE]
    if question is not None:
        q = tokenize(model.tokenizer, question)
        ids += q.ids + [sep_id]
        types += [0] * (len(q.ids) + 1)
        cases += q.case_ids + [CASE_NONE]
    ids += t.ids + [sep_id]
    types += [1 if question is not None else 0] * (len(t.ids) + 1)
    cases += t.case_ids + [CASE_NONE]
    row = lambda v: np.array([v], dtype=np.int64)  # noqa: E731
    return {
        "input_ids": row(ids),
        "attention_mask": row([1] * len(ids)),
        "token_type_ids": row(types),
        "case_ids": row(cases),
    }


def peer_session(peers, head):
    return ort.InferenceSession(str(peers / head / "onnx" / "model_quantized.onnx"), providers=["CPUExecutionProvider"])


def run_peer(peers, head, feeds):
    session = peer_session(peers, head)
    names = [i.name for i in session.get_inputs()]
    assert names == ["input_ids", "attention_mask", "token_type_ids"]
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, {k: feeds[k] for k in names})))


def test_case_table_matches_trident_on_lower_case_text(model):
    table = case_table(json.loads((ARTIFACT / "tokenizer.json").read_text(encoding="utf-8")))
    for text in TEXTS:
        feeds = feeds_for(model, text)
        assert (table[feeds["input_ids"][0]] == feeds["case_ids"][0]).all()
    # And differs where the original text has capitals: that is the casing the peer cannot see.
    feeds = feeds_for(model, "Angela Merkel visited Paris")
    assert (table[feeds["input_ids"][0]] != feeds["case_ids"][0]).any()


@pytest.mark.parametrize("head", ["sentiment", "banking77", "entities"])
def test_appended_head_reproduces_numpy_head(peers, model, head):
    spec = model.heads[head].spec
    for text in TEXTS:
        feeds = feeds_for(model, text)
        hidden = model.encoder(feeds)[0]  # [seq, H]
        expected = model.heads[head](model.heads[head].pool(hidden))
        logits = run_peer(peers, head, feeds)["logits"][0]
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
        assert logits.shape[-1] == len(spec["labels"])
        assert np.argmax(softmax(logits), -1).tolist() == np.argmax(softmax(expected), -1).tolist()


def test_answers_head_splits_start_and_end(peers, model):
    feeds = feeds_for(model, TEXTS[1], QUESTION)
    expected = model.heads["answers"](model.encoder(feeds)[0])  # [seq, 2]
    out = run_peer(peers, "answers", feeds)
    np.testing.assert_allclose(out["start_logits"][0], expected[:, 0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["end_logits"][0], expected[:, 1], rtol=1e-4, atol=1e-4)


def test_encoder_initialisers_are_the_artifacts(peers):
    encoder = {t.name: t.raw_data for t in onnx.load(str(ARTIFACT / "encoder.onnx")).graph.initializer}
    peer = {
        t.name: t.raw_data
        for t in onnx.load(str(peers / "sentiment" / "onnx" / "model_quantized.onnx")).graph.initializer
    }
    assert all(peer[name] == data for name, data in encoder.items())


def test_config_names_labels_and_architecture(peers, model):
    config = json.loads((peers / "entities" / "config.json").read_text())
    assert config["architectures"] == ["BertForTokenClassification"]
    assert config["id2label"] == {str(i): label for i, label in enumerate(model.heads["entities"].spec["labels"])}
    qa = json.loads((peers / "answers" / "config.json").read_text())
    assert qa["architectures"] == ["BertForQuestionAnswering"] and "id2label" not in qa
    assert json.loads((peers / "peers.json").read_text())["encoder_sha256"] == model.manifest["encoder"]["sha256"]
