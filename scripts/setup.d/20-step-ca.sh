#!/usr/bin/env bash
# Builds step-ca from Debian's Go sources (golang-github-smallstep-certificates-dev)
# with Firebreak's own tiny launcher (tools/step-ca/launcher), in GOPATH mode and
# offline. Cached in .cache/step-ca: rebuilt only when the launcher or the Debian
# package version changes (~50 s cold, instant warm).
set -euo pipefail
cd "$(dirname "$0")/../.."
for p in golang-go golang-github-smallstep-certificates-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || {
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --no-upgrade -o DPkg::Lock::Timeout=600 golang-go golang-github-smallstep-certificates-dev >/dev/null
    break
  }
done
cache=.cache/step-ca
stamp="$(dpkg-query -W -f='${Version}' golang-github-smallstep-certificates-dev) $(sha256sum tools/step-ca/launcher/main.go | cut -d' ' -f1)"
if [ -x "$cache/bin/step-ca-launcher" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "step-ca: cached build is current"
  exit 0
fi
mkdir -p "$cache/gopath/src/firebreak/step-ca-launcher" "$cache/bin" "$cache/gocache"
cp tools/step-ca/launcher/main.go "$cache/gopath/src/firebreak/step-ca-launcher/main.go"
echo "step-ca: building the launcher against Debian's smallstep sources (first time ~1 min)…"
GO111MODULE=off GOPROXY=off GOFLAGS=-mod=mod GOPATH="$PWD/$cache/gopath:/usr/share/gocode" GOCACHE="$PWD/$cache/gocache" \
  go build -o "$cache/bin/step-ca-launcher" firebreak/step-ca-launcher
echo "$stamp" > "$cache/stamp"
echo "step-ca: built $cache/bin/step-ca-launcher"
