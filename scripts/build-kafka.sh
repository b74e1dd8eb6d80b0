#!/usr/bin/env bash
# Resolves the Kafka broker the tests start (packages/kafka/src/broker.ts) from Maven Central: the runtime
# jars of tools/kafka/pom.xml, copied into a cache outside the clone, one directory per version and
# hash of the pom, and points `current` at it. A no-op (no Maven run) when that directory is complete.
#
#   bash scripts/build-kafka.sh              # resolve what is missing
#   PODSCALE_CACHE=/somewhere bash …         # cache root (default ~/.cache/podscale)
set -euo pipefail
cd "$(dirname "$0")/.."

pom=tools/kafka/pom.xml
cache_root="${PODSCALE_CACHE:-$HOME/.cache/podscale}/kafka"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
key="$(sha256sum "$pom" | cut -c1-12)"
out="$cache_root/$version-$key"

if [ -f "$out/complete" ]; then
  ln -sfn "$out" "$cache_root/current"
  echo "build-kafka: Kafka $version is current ($out)"
  exit 0
fi

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-kafka: $tool is not installed; the broker is resolved with Maven and runs on Java >= 17" >&2
    exit 1
  fi
done

started=$(date +%s)
echo "build-kafka: resolving Kafka $version ($pom) with Maven ..."
rm -rf "$out.partial"
mkdir -p "$out.partial"
mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out.partial/lib"
ls "$out.partial/lib/kafka_2.13-$version.jar" >/dev/null
echo "$version" > "$out.partial/version"
touch "$out.partial/complete"
rm -rf "$out" && mv "$out.partial" "$out"
ln -sfn "$out" "$cache_root/current"
echo "build-kafka: Kafka $version in $out/lib ($(ls "$out/lib" | wc -l) jars, $(du -sh "$out/lib" | cut -f1), $(( $(date +%s) - started )) s)"
