"""The multitask model: a shared BERT encoder (+ optional casing embedding) and one head per task."""

from __future__ import annotations

import torch
from torch import nn
from transformers import BertConfig, BertModel

from .text import CASE_CLASSES

# Head layouts (layer names are the safetensors keys, model/README.md).
POOLED = ("sentiment", "categories")
PER_TOKEN = ("entities", "answers")


class Encoder(nn.Module):
    """BERT with an optional casing embedding added to the word embeddings.

    Its forward is what is exported to ONNX: (input_ids, attention_mask, token_type_ids[, case_ids])
    -> last_hidden_state.
    """

    def __init__(self, bert: BertModel, casing: bool):
        super().__init__()
        self.bert = bert
        self.casing = casing
        if casing:
            # Zero-initialised so training starts from the pretrained embeddings exactly.
            self.case_embeddings = nn.Embedding(CASE_CLASSES, bert.config.hidden_size)
            nn.init.zeros_(self.case_embeddings.weight)

    def forward(self, input_ids, attention_mask, token_type_ids, case_ids=None):
        embeds = self.bert.embeddings.word_embeddings(input_ids)
        if self.casing:
            embeds = embeds + self.case_embeddings(case_ids)
        out = self.bert(inputs_embeds=embeds, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return out.last_hidden_state


def make_head(task: str, hidden: int, labels: int) -> nn.ModuleDict:
    if task in POOLED:
        return nn.ModuleDict({"dense": nn.Linear(hidden, hidden), "out": nn.Linear(hidden, labels)})
    return nn.ModuleDict({"out": nn.Linear(hidden, labels)})


def head_layers(task: str) -> list[dict]:
    if task in POOLED:
        return [
            {"weight": "dense.weight", "bias": "dense.bias", "activation": "tanh"},
            {"weight": "out.weight", "bias": "out.bias", "activation": "none"},
        ]
    return [{"weight": "out.weight", "bias": "out.bias", "activation": "none"}]


def apply_head(task: str, head: nn.ModuleDict, hidden: torch.Tensor, dropout: nn.Module) -> torch.Tensor:
    if task in POOLED:
        x = hidden[:, 0]
        x = torch.tanh(head["dense"](dropout(x)))
        return head["out"](dropout(x))
    return head["out"](dropout(hidden))


class MultitaskModel(nn.Module):
    """heads: {name: (task, labels)}."""

    def __init__(
        self, bert: BertModel, heads: dict[str, tuple[str, list[str]]], casing: bool, head_dropout: float = 0.1
    ):
        super().__init__()
        self.encoder = Encoder(bert, casing)
        self.head_specs = heads
        hidden = bert.config.hidden_size
        self.heads = nn.ModuleDict(
            {name: make_head(task, hidden, len(labels)) for name, (task, labels) in heads.items()}
        )
        self.dropout = nn.Dropout(head_dropout)

    def forward(self, head: str, input_ids, attention_mask, token_type_ids, case_ids=None):
        hidden = self.encoder(input_ids, attention_mask, token_type_ids, case_ids)
        task = self.head_specs[head][0]
        return apply_head(task, self.heads[head], hidden, self.dropout)


def load_base(folder, attn: str = "sdpa", attention_dropout: float = 0.0) -> BertModel:
    """The pretrained MiniLM encoder from its local folder (offline)."""
    config = BertConfig.from_pretrained(str(folder))
    config.attention_probs_dropout_prob = attention_dropout
    return BertModel.from_pretrained(str(folder), config=config, attn_implementation=attn, add_pooling_layer=False)


def tiny_bert(
    vocab_size: int, seed: int, hidden: int = 32, layers: int = 2, heads: int = 2, attn: str = "sdpa"
) -> BertModel:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 2,
        max_position_embeddings=512,
        type_vocab_size=2,
        attention_probs_dropout_prob=0.0,
    )
    config._attn_implementation = attn
    return BertModel(config, add_pooling_layer=False)


def eager_copy(encoder: Encoder) -> Encoder:
    """The same weights with eager attention (what torch.onnx.export traces cleanly)."""
    config = BertConfig.from_dict(encoder.bert.config.to_dict())
    config._attn_implementation = "eager"
    bert = BertModel(config, add_pooling_layer=False)
    copy = Encoder(bert, encoder.casing)
    copy.load_state_dict(encoder.state_dict())
    return copy.eval()
