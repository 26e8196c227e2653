#!/usr/bin/env bash
# Creates training/.venv with the pinned requirements. Idempotent: when the venv exists and its stamp
# matches the requirements' hash, it returns at once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(cat "$here/requirements.txt" "$here/requirements-nodeps.txt" | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "training/.venv is up to date (requirements $want)"
  exit 0
fi

"$python" - <<'PY'
import sys
if sys.version_info < (3, 10):
    sys.exit(f"training needs Python >= 3.10, found {sys.version.split()[0]}")
PY
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
"$venv/bin/python" -m pip install --quiet --no-deps -r "$here/requirements-nodeps.txt"
echo "$want" > "$stamp"
echo "training/.venv ready (requirements $want)"
