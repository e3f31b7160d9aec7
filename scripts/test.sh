#!/bin/sh
# The whole test suite (what `make test` and .ci/run run): unit tests,
# integration tests against the real daemon, short fuzz runs; all built
# with ASan+UBSan.
set -eu
cd "$(dirname "$0")/.."
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "== unit tests"
make -s unit

echo "== fuzz harnesses (short runs)"
make -s fuzz-short FUZZ_TIME="${FUZZ_TIME:-15}"

echo "== integration tests"
TALON_BIN="$PWD/build-asan/talon" /usr/bin/python3 -m pytest -q -ra --timeout=300 tests/integration
