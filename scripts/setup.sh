#!/usr/bin/env bash
# Installs Firebreak's npm dependencies (Node 24 included, as the npm package
# `node`) so that `npm run` and `npx firebreak` run on Node 24 even on a machine
# whose own Node is older. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node_modules/.bin/node -e 'const [maj]=process.versions.node.split("."); if (Number(maj) < 24) { console.error("Node 24 expected in node_modules/.bin/node, got " + process.version); process.exit(1); }'
