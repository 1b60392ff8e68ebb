# syntax=docker/dockerfile:1
#
# One image for every Marquee process; the command picks the service:
#   api (default)   node services/api/dist/main.js
#   worker          node --liftoff-only services/worker/dist/main.js
#   scheduler       node services/scheduler/dist/main.js
#   dashboard       node services/dashboard/dist/main.js
#   migrations      pnpm marquee migrate        (any `pnpm marquee …` command works)
# The services and the CLI run as JavaScript bundles built by `pnpm build` (scripts/build.mjs): no
# TypeScript compiler in their memory. `pnpm marquee` runs the CLI package's `marquee` bin
# (packages/cli/bin/marquee.js), which with NODE_ENV=production runs its bundle as built.
# Long-running services are started as their `start` scripts are, but not through
# `pnpm --filter … start`: pnpm runs a script under `sh -c`, which dies at once on SIGTERM, pnpm then
# exits and the container stops before the service has drained. Node as PID 1 gets SIGTERM itself.
#
#   docker build -t marquee .
#   docker run --rm -e DATABASE_URL=… -e REDIS_URL=… marquee
#   docker run --rm -e DATABASE_URL=… marquee pnpm marquee migrate

ARG NODE_IMAGE=node:20-bookworm-slim

# Node plus the pnpm version package.json pins (`packageManager`), so pnpm never tries to fetch
# another version of itself at run time.
FROM ${NODE_IMAGE} AS base
ENV PNPM_HOME=/pnpm
WORKDIR /app
COPY package.json ./
RUN npm install --global --no-fund --no-audit \
      "$(node -p "require('./package.json').packageManager.split('+')[0]")" \
  && npm cache clean --force \
  && pnpm --version

# Every package the lockfile names, into pnpm's store. This layer only changes with the lockfile.
FROM base AS fetch
ENV CI=true
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch

# Full install: the root `postinstall` generates the Prisma client into
# packages/db/src/generated (offline-safe: scripts/prisma-generate.mjs); then the service bundles,
# services/<service>/dist (esbuild, a dev dependency).
FROM fetch AS build
# The commit being built, for marquee_build_info (the context has no .git):
#   docker build --build-arg MARQUEE_REVISION=$(git rev-parse HEAD) -t ghcr.io/marquee/marquee:<version> .
ARG MARQUEE_REVISION=unknown
COPY . .
RUN pnpm install --frozen-lockfile --offline \
  && test -f packages/db/src/generated/prisma/client.ts \
  && pnpm build

# Runtime dependencies only, installed afresh from the same store; no install scripts (the Prisma
# CLI that `postinstall` needs is a devDependency), so the generated client comes from `build`.
FROM fetch AS prod-deps
COPY . .
RUN pnpm install --prod --frozen-lockfile --offline --ignore-scripts
COPY --from=build /app/packages/db/src/generated ./packages/db/src/generated
COPY --from=build /app/packages/cli/dist ./packages/cli/dist
COPY --from=build /app/services/api/dist ./services/api/dist
COPY --from=build /app/services/worker/dist ./services/worker/dist
COPY --from=build /app/services/scheduler/dist ./services/scheduler/dist
COPY --from=build /app/services/dashboard/dist ./services/dashboard/dist

FROM base AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only for the service user.
COPY --from=prod-deps /app /app
USER node
# api, dashboard, and the metrics/probe ports of worker and scheduler.
EXPOSE 3000 3001 9101 9102
CMD ["node", "services/api/dist/main.js"]
