#!/usr/bin/env bash
# The whole recipe: data -> train -> evaluate -> export -> quantize -> evaluate int8 -> artifact.
# Defaults: the recipe of trident-multitask 1.2.0 (all of SST-2, 5,000 IMDB reviews spread over the
# run, 18,000 SQuAD questions, round-robin mixing; about 90 minutes of training on 2 cores). 1.1.0 was
# `--sst2-examples 48000 --conll-epochs 2 --banking77-epochs 4 --squad-examples 20000 --imdb-epochs 0
# --spread-tasks "" --mixing sized --version 1.1.0`. Any option of `python -m trident_training.train --help` can be passed after `npm run train --`.
# Running it again after an interruption resumes from ~/.cache/trident/training/<name>-<version>/last.pt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup.sh"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# tcmalloc (Debian google-perftools), when installed, is preloaded: in one (noisy, shared-machine)
# measurement it cut the step time of the short-sequence tasks. TRIDENT_NO_TCMALLOC=1 turns it off.
for lib in /usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 /usr/lib/aarch64-linux-gnu/libtcmalloc.so.4; do
  if [[ -f "$lib" && -z "${TRIDENT_NO_TCMALLOC:-}" ]]; then export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"; break; fi
done
cd "$here/.."
exec "$here/.venv/bin/python" -m trident_training.train \
  --sst2-examples 0 --sst2-epochs 1 --conll-epochs 3 --banking77-epochs 5 \
  --squad-examples 18000 --squad-epochs 1 \
  --imdb-examples 5000 --imdb-epochs 1 --imdb-max-windows 2 --spread-tasks imdb \
  --mid-eval-limit 300 --quantization static --window-aggregation auto \
  "$@"
