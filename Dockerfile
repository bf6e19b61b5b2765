# The orchestrator on Debian bookworm, with the mediasoup worker built the same way as
# on a developer machine (scripts/build-worker.mjs against Debian's libraries).
FROM node:20-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      meson pkg-config ninja-build g++ python3 \
      libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build-worker.mjs && node scripts/build-client.mjs && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libuv1 libsrtp2-1 libusrsctp2 libssl3 libabsl20220623 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production
EXPOSE 3000
# Started directly (not through `npm start`, whose set-up step is for checkouts).
CMD ["node", "--import", "tsx", "server/main.ts"]
