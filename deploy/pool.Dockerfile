# syntax=docker/dockerfile:1
# The pool manager image; the same image runs the simulated TokenSpeed worker and the
# demo-tenant seed job with another command:
#   pool (default)   node dist/pool/main.js
#   sim worker       node dist/sim/main.js --host 0.0.0.0 --port 50051
#   seed demo key    node dist/deploy/seed-demo.js   (REDIS_URL, DEMO_API_KEY)
# Build from the repository root:  docker build -f deploy/pool.Dockerfile -t speedgate-pool .
#
# The code is TypeScript; `npm run pool` runs it through tsx, a dev dependency. The image
# compiles it to JavaScript once instead (transpile only: the same per-file transform tsx
# applies; type checking is CI's `npm run typecheck`), so the runtime needs production
# dependencies only and no compiler.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: TypeScript -> dist/ (needs only the compiler, pinned to the lockfile's version)
FROM ${NODE_IMAGE} AS build
ARG TYPESCRIPT_VERSION=5.9.3
WORKDIR /src
RUN npm install --prefix .tsc --no-save --no-audit --no-fund --ignore-scripts typescript@${TYPESCRIPT_VERSION}
COPY package.json tsconfig.json ./
COPY deploy/tsconfig.build.json deploy/seed-demo.ts deploy/
COPY contract contract
COPY pool pool
COPY sim sim
COPY edge/tenants.ts edge/
RUN node .tsc/node_modules/typescript/bin/tsc -p deploy/tsconfig.build.json

# ---- deps: production dependencies only, exactly as locked
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=deps /app/package.json package.json
COPY --from=build /src/dist dist
# uid 1000 is the image's "node" user; numeric so Kubernetes can check runAsNonRoot.
USER 1000:1000
# 9464: /healthz, /metrics, /status (POOL_HTTP_PORT)
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.POOL_HTTP_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/pool/main.js"]
