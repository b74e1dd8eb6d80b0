#!/usr/bin/env bash
# Builds the control plane's upstream programs (and the real node's kubelet and kube-proxy) from
# their published Go modules (tools/cluster/*)
# into a cache outside the clone, one directory per module keyed by its go.mod, go.sum and the build
# flags: a no-op when that directory is complete. Prints where the binaries are.
#
#   bash scripts/build-cluster.sh            # build what is missing
#   PODSCALE_CACHE=/somewhere bash …         # cache root (default ~/.cache/podscale)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  echo "build-cluster: Go is not installed; the control plane is built from Go modules (Go >= 1.26)" >&2
  exit 1
fi

cache_root="${PODSCALE_CACHE:-$HOME/.cache/podscale}/cluster"
mkdir -p "$cache_root"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# The control plane's release is the one tools/cluster/kubernetes/go.mod pins; the supported minors
# (tools/cluster/kubernetes-minors) end with it.
k8s_version="$(sed -n 's#^\s*k8s.io/kubernetes \(v[0-9.]*\).*#\1#p' tools/cluster/kubernetes/go.mod)"
minors=($(grep -v '^#' tools/cluster/kubernetes-minors))
if [ "${minors[-1]}" != "$k8s_version" ]; then
  echo "build-cluster: tools/cluster/kubernetes-minors ends with ${minors[-1]}, but tools/cluster/kubernetes/go.mod pins $k8s_version: make the last line $k8s_version" >&2
  exit 1
fi
prometheus_version=3.5.0
# The version stamp is not cosmetic: a component's feature-gate defaults follow the release it says it is.
k8s_ldflags_for() {
  local minor="${1#v1.}"; minor="${minor%%.*}"
  echo "-s -w -X k8s.io/component-base/version.gitVersion=$1 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=$1"
}
k8s_ldflags="$(k8s_ldflags_for "$k8s_version")"
prom_ldflags="-s -w -X github.com/prometheus/common/version.Version=$prometheus_version -X github.com/prometheus/common/version.Branch=podscale-build"

# module dir | binary=package ... ; ldflags chosen per module below
builds=(
  "kubernetes|etcd=go.etcd.io/etcd/server/v3 kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler kubectl=k8s.io/kubernetes/cmd/kubectl kubelet=k8s.io/kubernetes/cmd/kubelet kube-proxy=k8s.io/kubernetes/cmd/kube-proxy"
  "prometheus-adapter|prometheus-adapter=sigs.k8s.io/prometheus-adapter/cmd/adapter"
  "metrics-server|metrics-server=sigs.k8s.io/metrics-server/cmd/metrics-server"
  "prometheus|prometheus=github.com/prometheus/prometheus/cmd/prometheus"
)

ldflags_for() {
  case "$1" in
    kubernetes) echo "$k8s_ldflags" ;;
    prometheus) echo "$prom_ldflags" ;;
    *) echo "-s -w" ;;
  esac
}

started=$(date +%s)
for entry in "${builds[@]}"; do
  module="${entry%%|*}"
  targets="${entry#*|}"
  flags="$(ldflags_for "$module")"
  key="$(cat "tools/cluster/$module/go.mod" "tools/cluster/$module/go.sum" <(echo "$flags $(go env GOVERSION)") | sha256sum | cut -c1-12)"
  out="$cache_root/$module-$key"
  complete=true
  for t in $targets; do [ -x "$out/${t%%=*}" ] || complete=false; done
  if $complete; then
    echo "build-cluster: $module is current ($out)"
    ln -sfn "$out" "$cache_root/$module"
    continue
  fi
  mkdir -p "$out.partial"
  for t in $targets; do
    name="${t%%=*}" pkg="${t#*=}"
    # A binary added to the list later (kubelet, kube-proxy) must not cost a rebuild of the others.
    [ -x "$out/$name" ] && [ ! -e "$out.partial/$name" ] && cp -p "$out/$name" "$out.partial/$name"
    [ -x "$out.partial/$name" ] && continue
    echo "build-cluster: building $name ($pkg) ..."
    t0=$(date +%s)
    (cd "tools/cluster/$module" && go build -trimpath -ldflags "$flags" -o "$out.partial/$name" "$pkg")
    echo "build-cluster: built $name in $(( $(date +%s) - t0 )) s"
  done
  rm -rf "$out" && mv "$out.partial" "$out"
  ln -sfn "$out" "$cache_root/$module"
done
# The older supported minors' control planes (kube-apiserver, kube-controller-manager, kube-scheduler):
# the kit is checked on each one's apiserver (test/cluster/kit-apply.test.ts) and the HPA scales on
# the oldest (test/cluster/lab-kubernetes.test.ts). Each gets a wrapper module made here from its
# release's go.mod (every ./staging module replaced by its published release), so supporting one
# more minor is one more line in tools/cluster/kubernetes-minors.
for version in "${minors[@]}"; do
  [ "$version" = "$k8s_version" ] && continue
  flags="$(k8s_ldflags_for "$version")"
  key="$(echo "$version $flags $(go env GOVERSION)" | sha256sum | cut -c1-12)"
  out="$cache_root/kubernetes-$version-$key"
  src="$cache_root/src/kubernetes-$version"
  mkdir -p "$out"
  for name in kube-apiserver kube-controller-manager kube-scheduler; do
    if [ -x "$out/$name" ]; then
      echo "build-cluster: $name $version is current ($out)"
      continue
    fi
    echo "build-cluster: building $name $version (k8s.io/kubernetes@$version) ..."
    t0=$(date +%s)
    if [ ! -s "$src/go.sum" ]; then
      mkdir -p "$src"
      upstream_mod="$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
      {
        echo "module podscale.dev/tools/cluster/kubernetes-$version"
        grep -m1 '^go ' "$upstream_mod"
        echo "require k8s.io/kubernetes $version"
        sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging.*#\1#p' "$upstream_mod" | while read -r staged; do
          echo "replace $staged => $staged v0.${version#v1.}"
        done
        printf 'tool (\n\tk8s.io/kubernetes/cmd/kube-apiserver\n\tk8s.io/kubernetes/cmd/kube-controller-manager\n\tk8s.io/kubernetes/cmd/kube-scheduler\n)\n'
      } > "$src/go.mod"
      (cd "$src" && go mod tidy)
    fi
    (cd "$src" && go build -trimpath -ldflags "$flags" -o "$out/$name.partial" "k8s.io/kubernetes/cmd/$name")
    mv "$out/$name.partial" "$out/$name"
    echo "build-cluster: built $name $version in $(( $(date +%s) - t0 )) s"
  done
  ln -sfn "$out" "$cache_root/kubernetes-$version"
done

# The PodMonitor CRD, to check k8s/prometheus-operator against a real apiserver: from the
# prometheus-operator module as published (its example/ folder carries the generated CRDs).
operator_version=v0.85.0
crd="$cache_root/crds/prometheus-operator-$operator_version/monitoring.coreos.com_podmonitors.yaml"
if [ ! -s "$crd" ]; then
  echo "build-cluster: fetching the PodMonitor CRD (github.com/prometheus-operator/prometheus-operator@$operator_version) ..."
  dir="$(cd tools/cluster/kubernetes && go mod download -json "github.com/prometheus-operator/prometheus-operator@$operator_version" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  mkdir -p "$(dirname "$crd")" && cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml" "$crd"
fi
ln -sfn "$(dirname "$crd")" "$cache_root/crds/prometheus-operator"

echo "build-cluster: binaries under $cache_root/{kubernetes,prometheus-adapter,metrics-server,prometheus,kubernetes-<older minor>} ($(( $(date +%s) - started )) s)"
