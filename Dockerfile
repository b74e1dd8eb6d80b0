# syntax=docker/dockerfile:1
# Multi-stage: compile with dev dependencies, ship only dist/ and production dependencies.
FROM node:24-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-fund --no-audit
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-alpine AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-fund --no-audit && npm cache clean --force

FROM node:24-alpine
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the app user: works with readOnlyRootFilesystem.
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Numeric UID/GID so Kubernetes can verify runAsNonRoot; matches the Deployment's securityContext.
USER 10001:10001
EXPOSE 8080
# Exec form: node is PID 1 and receives SIGTERM itself (npm start would swallow it).
CMD ["node", "dist/server.js"]
