"""Trident offline training: multitask fine-tuning of the shared encoder, evaluation, int8 export.

The artifact it writes follows `model/README.md` (the contract with the TypeScript runtime).
"""

FORMAT = "trident-model/1"
