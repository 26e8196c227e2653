#!/usr/bin/env bash
# The whole recipe: data -> train -> evaluate -> export -> quantize -> evaluate int8 -> artifact.
# Defaults are the released recipe (trident-multitask 1.0.0); any option of
# `python -m trident_training.train --help` can be passed after `npm run train --`.
# Running it again after an interruption resumes from training/checkpoints/<name>-<version>/last.pt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup.sh"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
cd "$here/.."
exec "$here/.venv/bin/python" -m trident_training.train \
  --sst2-epochs 1 --conll-epochs 3 --banking77-epochs 5 --squad-examples 11000 --squad-epochs 1 \
  "$@"
