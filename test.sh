#!/usr/bin/env bash
# Runs every test of mkc: unit tests, and integration tests against the real kubectl binaries,
# the Python `kubernetes` client and the Rust `kube` client. Installs what they need first.
set -euo pipefail
cd "$(dirname "$0")"

if ! python3 -c 'import kubernetes' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check 'kubernetes>=29'
fi
if ! command -v curl >/dev/null; then
    apt-get update -qq && apt-get install -y -qq curl
fi

exec cargo test --release --workspace "$@"
