"""Compares one predict-output with a parity fixture's expected one, the way model/README.md
("Parity across CPUs") states it. Pure: no model, no files. The TypeScript twin is model/parity.ts;
both implement the same rules and are tested on the same kind of hand-made cases.

ONNX Runtime's int8 kernels differ between CPUs (AVX-512 VNNI / AVX-VNNI / AVX2 / NEON): AVX2
without VNNI sums u8·s8 pairs in saturating int16, so probabilities move a little from machine to
machine. Hence:

- every probability is compared within a tolerance that depends on whether this machine's int8
  path is of the same kind as the fixture's (``kernel`` in parity.json): both exact (VNNI, AMX,
  SSE4.1, NEON) or both saturating (AVX2 / AVX-512BW without VNNI) → ``SAME_PATH_TOLERANCE``;
  otherwise ``CROSS_PATH_TOLERANCE``. Both are the largest move measured, doubled (model/README.md);
- a discrete decision (a label, a rank, an entity span, an answer span or its null-ness) must be
  identical unless it was a near tie when the fixture was made: its margin to the runner-up was at
  most 2 × tolerance (both sides of a comparison may move). Sentiment and category margins are read
  from the fixture's own scores; entity and answer margins are not in the output, so the fixture
  lists their near ties with their margins (``near_ties``, written by parity_fixture.py).
"""

from __future__ import annotations

from dataclasses import dataclass

# Worst |Δp| measured (model/README.md "Parity across CPUs"), doubled: between exact int8 paths (VNNI
# vs emulated SSE4.1) 7.3e-5; between the exact and the saturating path (VNNI vs emulated AVX2)
# 0.124 on the released models (inputs p1–p9).
SAME_PATH_TOLERANCE = 5e-3
CROSS_PATH_TOLERANCE = 0.25
PARITY_TOLERANCE = SAME_PATH_TOLERANCE
DECISION_MARGIN = 2 * PARITY_TOLERANCE
# The fixture lists near ties up to the widest margin any comparison needs.
NEAR_TIE_EPSILON = 2 * CROSS_PATH_TOLERANCE


def saturating(int8_gemm: str | None) -> bool | None:
    """Whether an int8 path sums u8·s8 pairs in saturating int16; None when unknown."""
    if not int8_gemm or int8_gemm == "unknown":
        return None
    return int8_gemm.startswith(("avx2", "avx512bw"))


def tolerance_for(fixture_kernel: dict | None, runtime_int8_gemm: str | None) -> float:
    """SAME_PATH_TOLERANCE when both paths are known and of one kind, else CROSS_PATH_TOLERANCE."""
    a = saturating((fixture_kernel or {}).get("int8_gemm"))
    b = saturating(runtime_int8_gemm)
    return SAME_PATH_TOLERANCE if a is not None and a == b else CROSS_PATH_TOLERANCE


@dataclass(frozen=True)
class ParityDiff:
    id: str
    path: str
    expected: object
    actual: object


@dataclass(frozen=True)
class NearTies:
    """One input's near ties: UTF-16 ranges where an entity may differ; question indexes whose answer may."""

    entity_ranges: tuple[tuple[int, int], ...] = ()
    answers: tuple[int, ...] = ()

    @classmethod
    def from_json(cls, data: dict | None, margin: float) -> NearTies:
        """The recorded near ties ([start, end, margin] / [index, margin]) whose margin is ≤ `margin`."""
        data = data or {}
        return cls(
            tuple((s, e) for s, e, m in data.get("entities", []) if m <= margin),
            tuple(i for i, m in data.get("answers", []) if m <= margin),
        )


def compare_outputs(
    expected: dict,
    actual: dict,
    near_ties: NearTies = NearTies(),
    tolerance: float = PARITY_TOLERANCE,
    margin: float | None = None,
) -> list[ParityDiff]:
    """Every difference that the rules above do not allow; [] when the outputs agree."""
    margin = 2 * tolerance if margin is None else margin
    diffs: list[ParityDiff] = []
    at = expected["id"]

    def diff(path: str, e, a) -> None:
        diffs.append(ParityDiff(at, path, e, a))

    def close(path: str, e, a) -> None:
        if not (isinstance(e, (int, float)) and isinstance(a, (int, float)) and abs(e - a) <= tolerance):
            diff(path, e, a)

    if expected.keys() != actual.keys():
        diff(f"{at}.<tasks>", sorted(expected), sorted(actual))
    if actual.get("id") != at:
        diff(f"{at}.id", at, actual.get("id"))
    if "sentiment" in expected and "sentiment" in actual:
        _sentiment(expected["sentiment"], actual["sentiment"], f"{at}.sentiment", margin, diff, close)
    if "categories" in expected and "categories" in actual:
        e_heads, a_heads = expected["categories"], actual["categories"]
        if e_heads.keys() != a_heads.keys():
            diff(f"{at}.categories.<heads>", sorted(e_heads), sorted(a_heads))
        for head in e_heads.keys() & a_heads.keys():
            _ranked(e_heads[head], a_heads[head], f"{at}.categories.{head}", margin, diff, close)
    if "entities" in expected and "entities" in actual:
        _entities(expected["entities"], actual["entities"], f"{at}.entities", near_ties.entity_ranges, diff, close)
    if "answers" in expected and "answers" in actual:
        _answers(expected["answers"], actual["answers"], f"{at}.answers", near_ties.answers, diff, close)
    return diffs


def _sentiment(e: dict, a: dict, path: str, margin: float, diff, close) -> None:
    if e["scores"].keys() != a["scores"].keys():
        diff(f"{path}.scores.<labels>", sorted(e["scores"]), sorted(a["scores"]))
        return
    for label, p in e["scores"].items():
        close(f"{path}.scores.{label}", p, a["scores"][label])
    top = max(e["scores"].values())
    # The label may differ only to one that was within the margin of the top when the fixture was made.
    if a["label"] != e["label"] and not (a["label"] in e["scores"] and top - e["scores"][a["label"]] <= margin):
        diff(f"{path}.label", e["label"], a["label"])


def _ranked(e: list, a: list, path: str, margin: float, diff, close) -> None:
    """Top-k lists, best first: scores rank by rank; a label may move only among near-tied ranks."""
    if len(e) != len(a):
        diff(f"{path}.length", len(e), len(a))
        return
    e_score = {x["label"]: x["score"] for x in e}
    last = e[-1]["score"]
    for i, (x, y) in enumerate(zip(e, a)):
        close(f"{path}[{i}].score", x["score"], y["score"])
        if y["label"] == x["label"]:
            continue
        if y["label"] in e_score:
            allowed = abs(e_score[y["label"]] - x["score"]) <= margin
        else:  # a label from just below the top-k cut may enter it
            allowed = x["score"] - last <= margin
        if not allowed:
            diff(f"{path}[{i}].label", x["label"], y["label"])
    for y in a:
        if y["label"] in e_score:
            close(f"{path}.{y['label']}.score", e_score[y["label"]], y["score"])


def _overlaps(entity: dict, ranges) -> bool:
    return any(entity["start"] < end and start < entity["end"] for start, end in ranges)


def _entities(e: list, a: list, path: str, ranges, diff, close) -> None:
    """Entities away from near-tie words: same label, text, start and end, score within tolerance."""
    key = lambda x: (x["start"], x["end"], x["label"], x["text"])  # noqa: E731
    firm_e = {key(x): x for x in e if not _overlaps(x, ranges)}
    firm_a = {key(y): y for y in a if not _overlaps(y, ranges)}
    for k, x in firm_e.items():
        if k in firm_a:
            close(f"{path}[{x['start']}:{x['end']} {x['label']}].score", x["score"], firm_a[k]["score"])
        else:
            diff(f"{path}[{x['start']}:{x['end']} {x['label']}]", x, None)
    for k, y in firm_a.items():
        if k not in firm_e:
            diff(f"{path}[{y['start']}:{y['end']} {y['label']}]", None, y)


def _answers(e: list, a: list, path: str, near: tuple[int, ...], diff, close) -> None:
    if len(e) != len(a):
        diff(f"{path}.length", len(e), len(a))
        return
    for i, (x, y) in enumerate(zip(e, a)):
        if x["question"] != y["question"]:
            diff(f"{path}[{i}].question", x["question"], y["question"])
        close(f"{path}[{i}].score", x["score"], y["score"])
        if i in near:
            continue
        for field in ("answer", "start", "end"):
            if x[field] != y[field]:
                diff(f"{path}[{i}].{field}", x[field], y[field])


def compare_fixture(
    parity: dict, outputs: list[dict], runtime_int8_gemm: str | None, tolerance: float | None = None
) -> list[ParityDiff]:
    """All differences between a parity.json's int8 outputs and `outputs` (same order) computed on a
    machine whose int8 path is `runtime_int8_gemm` (parity_fixture.kernel_path()["int8_gemm"])."""
    if tolerance is None:
        tolerance = tolerance_for(parity.get("kernel"), runtime_int8_gemm)
    recorded = parity.get("near_ties")
    if recorded is not None and recorded["epsilon"] < 2 * tolerance:
        raise ValueError(
            f"parity.json lists near ties within {recorded['epsilon']}, but tolerance {tolerance} "
            f"needs those within {2 * tolerance}: rerun python -m trident_training.parity_fixture"
        )
    ties = (recorded or {}).get("inputs", {})
    diffs: list[ParityDiff] = []
    for expected, actual in zip(parity["expected"]["int8"], outputs):
        near = NearTies.from_json(ties.get(expected["id"]), 2 * tolerance)
        diffs += compare_outputs(expected, actual, near, tolerance)
    return diffs
