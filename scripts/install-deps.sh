#!/usr/bin/env bash
# Installs the Debian 12 packages auditbot needs to build, test and run; skips the
# download when every package is already present. Used by `make run`, `make test`,
# CI and deploy/Dockerfile alike.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libssl-dev nlohmann-json3-dev libhiredis-dev libyaml-cpp-dev
  libspdlog-dev libfmt-dev libhowardhinnant-date-dev libcli11-dev tzdata ca-certificates
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server openssl curl
)
if [ "${1:-}" = "--runtime-only" ]; then
  packages=(libssl3 libhiredis0.14 libyaml-cpp0.7 libspdlog1.10 libfmt9 libdate-tz3
            tzdata ca-certificates curl)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
