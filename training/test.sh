#!/usr/bin/env bash
# pytest for the training package (readers, BIO, metrics, windows, and a smoke run of the recipe).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup.sh"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
cd "$here"
exec "$here/.venv/bin/python" -m pytest -q tests "$@"
