# syntax=docker/dockerfile:1
# Stages: `build` compiles everything with the dev dependencies and writes the service bundle;
# the final (default) stage is the service and holds only that bundle. More images (the operator)
# go in as named stages between the two, built with `--target <name>`; the service stays last.
# Nothing below is Alpine- or Debian-specific: any Node 24 base with `node` on PATH works.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# npm ci needs every workspace's package.json; the sources come after, so a code change keeps this layer.
COPY package.json package-lock.json ./
COPY packages/hpa/package.json ./packages/hpa/
COPY packages/process/package.json ./packages/process/
COPY packages/kafka/package.json ./packages/kafka/
COPY packages/kube-local/package.json ./packages/kube-local/
COPY packages/operator/package.json ./packages/operator/
COPY packages/fastify/package.json ./packages/fastify/
COPY packages/service/package.json ./packages/service/
COPY packages/cli/package.json ./packages/cli/
RUN npm ci --ignore-scripts --no-fund --no-audit
COPY scripts/build-service.ts scripts/service-bundle.ts scripts/build-controller.ts ./scripts/
COPY packages ./packages
# esbuild: dist/service/server.mjs (+ map), runnable without node_modules, and its compile cache,
# filled by a warm-up run of the bundle on this same Node; dist/controller/main.mjs.
RUN npm run build

# The AutoScalerPolicy controller (k8s/controller, image podscale-controller): its own bundle only.
# Build it with `--target controller`; Node's built-in ICU carries the time zones it needs.
FROM node:24-bookworm-slim AS controller
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/dist/controller ./dist/controller
USER 10001:10001
EXPOSE 8081
# ENTRYPOINT, not CMD: the Deployment passes only `args` (flags), which replace CMD.
ENTRYPOINT ["node", "dist/controller/main.mjs"]

FROM node:24-bookworm-slim AS service
# The compile cache of the bundle, and V8's young generation capped at 4 MiB per semi-space (peak
# RSS at max load 101 instead of 122 MiB): scripts/service-bundle.ts says why; a test keeps them equal.
ENV NODE_ENV=production \
    NODE_COMPILE_CACHE=/app/dist/service/compile-cache \
    NODE_COMPILE_CACHE_PORTABLE=1 \
    NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
# One folder, ~3.2 MiB: the bundle, its source map (stack traces map back to packages/ when first
# printed), the worker's Kafka bundle and the compile cache. Owned by root and read-only to the
# app user: works with readOnlyRootFilesystem (Node only reads the cache).
COPY --from=build /app/dist/service ./dist/service
# Numeric UID/GID so Kubernetes can verify runAsNonRoot; matches the Deployment's securityContext.
USER 10001:10001
EXPOSE 8080
# Exec form: node is PID 1 and receives SIGTERM itself (npm start would swallow it).
CMD ["node", "dist/service/server.mjs"]
