#!/usr/bin/env bash
# `npm run lint`: ESLint and Prettier on the TypeScript and JavaScript, ruff (lint and format) on
# training/. Runs every check and fails if any failed. `npm run format` fixes the formatting.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
failed=()
run() {
  echo "--- $*" >&2
  "$@" || failed+=("$1 $2")
}
run npx eslint .
run npx prettier --check .
# ruff is pinned in training/requirements.txt; setup.sh returns at once when the venv is current.
if bash training/setup.sh >&2; then
  run training/.venv/bin/ruff check training
  run training/.venv/bin/ruff format --check training
else
  failed+=("training/setup.sh (for ruff)")
fi
if ((${#failed[@]} > 0)); then
  echo "lint failed: ${failed[*]}" >&2
  exit 1
fi
