# The orchestrator on the current Node LTS (26) and Debian bookworm, with the mediasoup
# worker built the same way as on a developer machine (scripts/build-worker.mjs against
# Debian's libraries). npm test proves the unit and integration suites on that Node too.
FROM node:26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      meson pkg-config ninja-build g++ python3 \
      libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build-worker.mjs && node scripts/build-client.mjs && npm prune --omit=dev --no-audit --no-fund \
    && find build/client -name '*.map' -delete

FROM node:26-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libuv1 libsrtp2-1 libusrsctp2 libssl3 libabsl20220623 ca-certificates ffmpeg \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The code belongs to root and is read-only for the server, which runs as the image's
# unprivileged `node` user and writes only to DATA_DIR (its generated secret, the
# embedded Redis when REDIS_URL is unset, the recordings): mount a volume there to keep them.
COPY --from=build /app /app
RUN mkdir -p /app/data && chown node:node /app/data && chmod 700 /app/data
ENV NODE_ENV=production DATA_DIR=/app/data
VOLUME /app/data
USER node
EXPOSE 3000
# Started directly (not through `npm start`, whose set-up step is for checkouts).
CMD ["node", "--import", "tsx", "server/main.ts"]
