#!/usr/bin/env bash
# Builds Helm (the chart's lint/template tests use it) from the Go module proxy into Trident's tool
# cache, when missing: ${TRIDENT_TOOLS_BIN:-~/.cache/trident/bin}/helm. Needs Go; without Go it says
# so and exits 0, and the chart tests skip. Idempotent: a helm of the pinned version is kept.
set -euo pipefail

HELM_VERSION="v4.3.2"
BIN_DIR="${TRIDENT_TOOLS_BIN:-$HOME/.cache/trident/bin}"
HELM="$BIN_DIR/helm"

if ! command -v go >/dev/null 2>&1; then
  [ -x "$HELM" ] && exit 0
  echo "install-helm: Go is missing, so helm $HELM_VERSION is not built (the chart tests will skip)" >&2
  exit 0
fi
# A helm built by `go install` reports only "v4.3" as its version; its Go build info names the module version.
if [ -x "$HELM" ] && go version -m "$HELM" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+helm\.sh/helm/v4[[:space:]]+$HELM_VERSION[[:space:]]"; then
  exit 0
fi

mkdir -p "$BIN_DIR"
echo "install-helm: building helm $HELM_VERSION from the Go module proxy into $BIN_DIR (a few minutes)…" >&2
# A private temporary GOBIN, then a rename: a half-built helm never sits at $HELM.
tmp_bin="$(mktemp -d "$BIN_DIR/.helm-build.XXXXXX")"
trap 'rm -rf "$tmp_bin"' EXIT
GOBIN="$tmp_bin" GOFLAGS="${GOFLAGS:-} -trimpath" go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
mv -f "$tmp_bin/helm" "$HELM"
echo "install-helm: built helm $HELM_VERSION into $BIN_DIR" >&2
