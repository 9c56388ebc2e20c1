# The platform server (`npm run serve`; the same image runs the job worker as `npm run worker`) with
# ffmpeg/ffprobe from Debian. Model files are not baked in: docker-compose.yml mounts them read-only at
# /models (MODELS_DIR). Build: docker-compose build api
FROM node:20-bookworm

RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# NODE_ENV=production: npm skips devDependencies, and graphql-js drops its development-mode checks
# (a measurable share of every query's CPU time, see `npm run bench:server`).
# ffmpeg-static's binary download is not needed (FFMPEG_PATH), nor onnxruntime-node's CUDA libraries.
ENV NODE_ENV=production \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe \
    ONNXRUNTIME_NODE_INSTALL=skip \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/data \
    MODELS_DIR=/models

# Dependencies first, so that source edits reuse this layer. Install scripts run only for the native
# packages that need them (the same list as "allowScripts" in package.json).
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY web/package.json web/
RUN npm ci --omit=dev --ignore-scripts \
  && npm rebuild better-sqlite3 hnswlib-node esbuild \
  && npm cache clean --force

COPY tsconfig.json ./
COPY models/manifest.json models/
COPY server/src server/src
COPY schema.graphql ./

# DATA_DIR (database file when no DATABASE_URL, audio, HNSW indexes, admin token) belongs to the
# unprivileged user; a named volume mounted there inherits this ownership.
RUN mkdir -p /data /models && chown node:node /data
USER node

EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["npm", "run", "serve"]
