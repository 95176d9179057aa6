#!/usr/bin/env bash
# The README's test command: install what building and testing need (apt),
# build everything, run every test.  Root: the BPF and namespace tests load
# programs and build network namespaces.  Ends with "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test: run as root (the tests load BPF programs and create namespaces)" >&2; exit 1; }
scripts/deps.sh all
make --no-print-directory all
exec tests/run.sh all
