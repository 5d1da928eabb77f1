# Salon in a container: one image for a node (`salon serve`, the default command) and for the
# edge (`salon edge --origin …`, which runs Debian's nginx, with its Lua module, beside it).
# deploy/compose.yaml runs PostgreSQL, Redis, three nodes and the edge from it.
#
#   docker build -t salon .
#
# The web client is built in a Node stage; Salon is installed editable from /app so that
# `salon edge` finds its template and audio cache under /app/deploy.

FROM node:22-bookworm-slim AS web
WORKDIR /build/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
# vite writes the build to ../src/salon/web
RUN mkdir -p ../src/salon && npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# nginx and its Lua module (the audio cache, deploy/nginx/salon_audio.lua) for the edge.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        nginx libnginx-mod-http-lua lua-resty-core lua-resty-lrucache \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/salon --no-create-home salon \
    && mkdir -p /var/lib/salon /srv/salon/recordings \
    && chown salon:salon /var/lib/salon /srv/salon/recordings
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY deploy ./deploy
COPY --from=web /build/src/salon/web ./src/salon/web
RUN pip install -e .
ENV SALON_HOST=0.0.0.0 \
    SALON_PORT=8000 \
    SALON_VAR_DIR=/var/lib/salon
USER salon
WORKDIR /var/lib/salon
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SALON_PORT', '8000'), timeout=2)"]
CMD ["salon", "serve"]
