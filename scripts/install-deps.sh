#!/usr/bin/env bash
# Installs, from Debian's packages only, whatever the build, the tests or the
# benchmarks need and this machine lacks. Idempotent: a second run installs nothing.
#   scripts/install-deps.sh            build + run the server
#   scripts/install-deps.sh --test     ... plus what the test suite needs (PostgreSQL server
#                                      binaries for the tests' throwaway clusters)
#   scripts/install-deps.sh --bench    ... plus the load generator, nginx baseline, PostgreSQL
set -euo pipefail

packages=(build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev sqlite3 libpq-dev libssl-dev libsodium-dev libcli11-dev ca-certificates openssl)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(googletest libgtest-dev libgmock-dev python3 clang-format postgresql) ;;
    --bench) packages+=(wrk nginx-light python3 procps postgresql) ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

# The web tests' fixtures come from npm; Debian's nodejs brings node and npm where the machine
# has none of its own.
for arg in "$@"; do
  if [[ "$arg" == --test ]] && ! command -v node >/dev/null; then packages+=(nodejs npm); fi
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
