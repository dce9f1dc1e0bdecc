#!/usr/bin/env bash
# Runs every test of mkc: unit tests, integration tests against the real kubectl binaries,
# the Python `kubernetes` client and the Rust `kube` client, and clusters of Docker containers
# (a Docker engine must answer). Installs what they need first: the Python client goes into a
# virtual environment of its own (target/python), never into the system's Python, whose other
# tools depend on the packages it has; debootstrap makes the node and test images offline.
set -euo pipefail
cd "$(dirname "$0")"

venv=target/python
if ! "$venv/bin/python" -c 'import kubernetes' 2>/dev/null; then
    # venv needs ensurepip, which Debian ships apart from the standard library.
    if ! python3 -c 'import ensurepip' 2>/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3-venv
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'kubernetes>=29'
fi
export MKC_PYTHON="$PWD/$venv/bin/python"
for tool in curl debootstrap; do
    if ! command -v "$tool" >/dev/null; then
        apt-get update -qq && apt-get install -y -qq "$tool"
    fi
done

exec cargo test --release --workspace "$@"
