#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running Zebros: installs what is missing,
# builds (Release) and starts `zebros serve` on the embedded default (SQLite in ./zebros-data).
# Extra arguments go to `zebros serve`, e.g. scripts/serve.sh --listen 0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DZEBROS_TESTS=OFF >/dev/null
cmake --build build --target zebros
data_dir="${ZEBROS_DATA_DIR:-./zebros-data}"
if [[ -f "$data_dir/bootstrap-admin-key" ]]; then
  echo "Admin API key: $(cat "$data_dir/bootstrap-admin-key")  (from $data_dir/bootstrap-admin-key)"
else
  echo "First start: the admin API key is printed below and saved in $data_dir/bootstrap-admin-key"
fi
exec build/zebros serve --data-dir "$data_dir" "$@"
