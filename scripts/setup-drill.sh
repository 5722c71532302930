#!/usr/bin/env bash
# Set-up for `npm run drill`: the npm dependencies (Node 24 included), and the
# PostgreSQL server that the db-credential-leak drill starts a throwaway
# cluster of. Without root or passwordless sudo PostgreSQL is not installed:
# the drill then says so and rehearses the other playbooks. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo"; else
      echo "setup-drill: PostgreSQL is not installed and there is no root or passwordless sudo to install it; the db-credential-leak drill will be skipped (apt-get install postgresql)" >&2
      exit 0
    fi
  fi
  echo "setup-drill: installing postgresql (for the db-credential-leak drill)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --no-upgrade -o DPkg::Lock::Timeout=600 postgresql >/dev/null
fi
