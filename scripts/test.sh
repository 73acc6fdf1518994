#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a passing test suite: installs what is missing,
# checks formatting, builds with AddressSanitizer + UndefinedBehaviorSanitizer, and runs every
# test (unit tests and whole-server tests against the real binary) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

scripts/check-format.sh

# npm fixtures of the whole-server tests: the OpenAPI validator and the OIDC provider.
for npm_dir in tests/openapi tests/fixtures/oidc; do
  if [[ ! -d $npm_dir/node_modules ]] || [[ $npm_dir/package-lock.json -nt $npm_dir/node_modules ]]; then
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
done

build_dir="${ZEBROS_TEST_BUILD_DIR:-build-test}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DZEBROS_SANITIZE=ON >/dev/null
cmake --build "$build_dir"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"
