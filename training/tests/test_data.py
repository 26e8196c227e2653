"""Readers: counts equal those in ../shared/data/SOURCES.md."""

from collections import Counter

from trident_training import data as D


def test_sst2_counts(data_root):
    train = D.read_sst2(data_root / D.SST2_TRAIN)
    dev = D.read_sst2(data_root / D.SST2_DEV)
    assert len(train) == 67349 and sum(y for _, y in train) == 37569
    assert len(dev) == 872 and sum(y for _, y in dev) == 444
    assert not any(s.endswith(" ") for s, _ in train[:100])


def test_conll_counts(data_root):
    train = D.read_conll(data_root / D.CONLL_TRAIN)
    assert D.count_conll_docs(data_root / D.CONLL_TRAIN) == 946
    assert len(train) == 14041 and sum(len(s.tokens) for s in train) == 203621
    starts = Counter(t[2:] for s in train for t in s.tags if t.startswith("B-"))
    assert starts == {"PER": 6600, "LOC": 7140, "ORG": 6321, "MISC": 3438}
    dev = D.read_conll(data_root / D.CONLL_DEV)
    assert D.count_conll_docs(data_root / D.CONLL_DEV) == 216
    assert len(dev) == 3250 and sum(len(s.tokens) for s in dev) == 51362
    starts = Counter(t[2:] for s in dev for t in s.tags if t.startswith("B-"))
    assert starts == {"PER": 1842, "LOC": 1837, "ORG": 1341, "MISC": 922}


def test_squad_counts(data_root):
    train = D.read_squad(data_root / D.SQUAD_TRAIN)
    assert len(train) == 87599 and len({x.article for x in train}) == 442
    assert len({x.context for x in train}) <= 18896
    dev = D.read_squad(data_root / D.SQUAD_DEV)
    assert len(dev) == 7235 and len({x.article for x in dev}) == 32
    assert all(1 <= len(x.answers) for x in dev)


def test_banking77_counts_and_split(data_root):
    rows, cats = D.read_banking77(data_root / D.BANKING_TRAIN)
    assert len(rows) == 10003 and len(cats) == 77 and {c for _, c in rows} == set(cats)
    train, val = D.stratified_split(rows, 0.1, seed=13)
    assert len(train) + len(val) == len(rows)
    assert {c for _, c in val} == set(cats)  # every intent is in the validation part
    again, _ = D.stratified_split(rows, 0.1, seed=13)
    assert again == train
    per = Counter(c for _, c in val)
    full = Counter(c for _, c in rows)
    assert all(abs(per[c] - round(0.1 * full[c])) <= 1 for c in cats)


def test_imdb_counts_and_split(data_root):
    reviews = D.read_imdb(data_root / D.IMDB_TRAIN)
    assert len(reviews) == 25000 and sum(r.label for r in reviews) == 12500
    assert len({r.id for r in reviews}) == 25000
    assert not any("<br" in r.text for r in reviews)
    train, dev = D.imdb_split(reviews)
    assert len(train) + len(dev) == 25000 and not {r.id for r in train} & {r.id for r in dev}
    assert 2250 <= len(dev) <= 2750  # 10 % by id hash
    assert 0.45 <= sum(r.label for r in dev) / len(dev) <= 0.55
    # The split is a function of each id alone: the same reviews in another order, or fewer, keep their side.
    again_train, again_dev = D.imdb_split(list(reversed(reviews[:5000])))
    assert {r.id for r in again_dev} == {r.id for r in dev} & {r.id for r in reviews[:5000]}
