#!/usr/bin/env bash
# Fails when a C++ file differs from clang-format's output (.clang-format, Google base).
# Run `scripts/check-format.sh --fix` to rewrite them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'src/*.h' 'src/*.cc' 'bench/*.cc' 2>/dev/null || true)
((${#files[@]})) || exit 0
if [[ "${1:-}" == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run --Werror "${files[@]}"
