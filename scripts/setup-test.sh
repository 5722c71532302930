#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine: the real
# components (apt), the npm dependencies, then each scripts/setup.d/*.sh step
# (e.g. building step-ca from Debian's Go sources, cached). Idempotent; safe to
# run again. Needs root (or sudo) for apt-get on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real components the suite talks to, added together with the tests that use
# them (PostgreSQL, openssh-server, golang + golang-github-smallstep-
# certificates-dev for step-ca come with their issues).
APT_PACKAGES=(
  ca-certificates
  wireguard-tools wireguard-go iproute2      # real WireGuard in a network namespace
  openssh-server openssh-client procps       # the SSH executor against a real sshd
  postgresql                                 # credential rotation against a real server
  openssl                                    # the test PKI under the real step-ca
  pdns-server pdns-backend-sqlite3           # DKIM keys published through PowerDNS's API
  postfix dovecot-core                       # SMTP AUTH (Dovecot SASL) and notification delivery
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
