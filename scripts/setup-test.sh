#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine: the real
# components (apt), the npm dependencies, then each scripts/setup.d/*.sh step
# (e.g. building step-ca from Debian's Go sources, cached). Idempotent; safe to
# run again. Needs root (or sudo) for apt-get on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  postgresql                                  # db-credential-leak: real PostgreSQL
  wireguard-tools wireguard-go iproute2       # device-compromise: real WireGuard in a netns
  openssh-server openssh-client               # SSH executor against a real sshd
  openssl                                     # test PKI (root -> provider -> tenant Sub-CA)
  golang-go golang-github-smallstep-certificates-dev   # step-ca, built from Debian's Go sources
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup-test: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --no-upgrade \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi

bash scripts/setup.sh

for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "setup-test: $step"
  bash "$step"
done
