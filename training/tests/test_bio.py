from trident_training.data import iob1_to_bio
from trident_training.features import char_to_tokens, conll_text, word_tags
from trident_training.text import tokenize


def test_iob1_to_bio():
    assert iob1_to_bio(["I-ORG", "O", "I-MISC", "O"]) == ["B-ORG", "O", "B-MISC", "O"]
    assert iob1_to_bio(["I-PER", "I-PER", "B-PER", "I-PER"]) == ["B-PER", "I-PER", "B-PER", "I-PER"]
    assert iob1_to_bio(["I-LOC", "I-ORG", "I-ORG"]) == ["B-LOC", "B-ORG", "I-ORG"]
    assert iob1_to_bio(["O", "I-MISC", "I-MISC", "O", "I-MISC"]) == ["O", "B-MISC", "I-MISC", "O", "B-MISC"]
    assert iob1_to_bio([]) == []


def test_word_tags_continue_inside_a_conll_token(tokenizer):
    tokens = ["U.S.", "President", "Clinton", "met", "Kim"]
    tags = ["B-LOC", "O", "B-PER", "O", "B-PER"]
    text, spans = conll_text(tokens)
    assert text == "U.S. President Clinton met Kim" and spans[2] == (15, 22)
    t = tokenize(tokenizer, text)
    wt = word_tags(t, spans, tags)
    words = sorted(wt)
    # "U.S." is four tokenizer words: u . s . -> B-LOC I-LOC I-LOC I-LOC
    assert [wt[w] for w in words] == ["B-LOC", "I-LOC", "I-LOC", "I-LOC", "O", "B-PER", "O", "B-PER"]


def test_char_to_tokens():
    offsets = [(0, 3), (4, 9), (9, 10), (11, 15)]
    assert char_to_tokens(offsets, 4, 10) == (1, 2)
    assert char_to_tokens(offsets, 5, 6) == (1, 1)
    assert char_to_tokens(offsets, 11, 15) == (3, 3)
    assert char_to_tokens(offsets, 20, 22) == (-1, -1)
