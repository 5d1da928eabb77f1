# The two commands a newcomer needs: `make run` and `make test`.
# Each installs what it needs first: a virtualenv under .venv with the Python packages, the web
# client's npm packages and build, and (for the browser tests) Debian's Chromium.

PYTHON ?= python3
NPM ?= npm
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
WEB_MODULES := web/node_modules/.package-lock.json
WEB_BUILD := src/salon/web/index.html
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
	web/index.html web/package.json web/tsconfig.json web/vite.config.ts
CHROMIUM ?= /usr/bin/chromium

.PHONY: run edge cluster cluster-clean test lint unit integration browser edge-test web web-test \
	chromium edge-tools media-tools install clean

run: $(STAMP) $(WEB_BUILD)
	mkdir -p var
	$(BIN)/salon serve

# Salon behind its caching edge: nginx on http://127.0.0.1:8080 and https://127.0.0.1:8443
# (HTTP/2, a self-signed certificate) caching the audio, the origin on :8000.
edge: $(STAMP) $(WEB_BUILD) edge-tools
	mkdir -p var
	$(BIN)/salon edge

# Three Salon nodes on PostgreSQL and Redis behind the edge, all on loopback: nodes on :8001-8003,
# the edge on http://127.0.0.1:8080 and https://127.0.0.1:8443. Its own database (salon_cluster,
# created if missing and kept), Redis key prefix (salon-cluster:) and folder (var/cluster: the
# shared secret key and recordings, each node's var directory, the edge's files, the logs).
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379 running;
# CLUSTER_ARGS passes options (salon cluster --help). Ctrl-C stops everything.
CLUSTER_ARGS ?=
cluster: $(STAMP) $(WEB_BUILD) edge-tools
	mkdir -p var
	$(BIN)/salon cluster $(CLUSTER_ARGS)

# Forget the cluster: drop its database, delete its Redis keys (its prefix only) and var/cluster.
cluster-clean: $(STAMP)
	$(BIN)/salon cluster-clean

test: $(STAMP) $(WEB_BUILD) chromium edge-tools media-tools lint web-test
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

browser: $(STAMP) $(WEB_BUILD) chromium
	$(BIN)/pytest tests/browser

edge-test: $(STAMP) edge-tools
	$(BIN)/pytest tests/edge

install: $(STAMP) $(WEB_BUILD)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

# The web client: npm packages exactly as locked, then the build the server serves.
web: $(WEB_BUILD)

$(WEB_MODULES): web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	touch $@

$(WEB_BUILD): $(WEB_MODULES) $(WEB_SOURCES)
	cd web && $(NPM) run build

web-test: $(WEB_MODULES)
	cd web && $(NPM) test

# Browser tests drive Debian's Chromium (with an emoji font, so screenshots show reactions); as
# root we install them, otherwise we say what is missing.
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
chromium:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f $(EMOJI_FONT) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -q chromium fonts-noto-color-emoji; \
		else \
			if [ ! -x $(CHROMIUM) ]; then \
				echo "The browser tests need Chromium at $(CHROMIUM): sudo apt-get install chromium" >&2; \
				exit 1; \
			fi; \
		fi; \
	fi

# The edge (make edge, tests/edge) runs Debian's nginx with its Lua module (the audio cache,
# deploy/nginx/salon_audio.lua, needs lua-resty-core); as root we install them, otherwise we say
# what is missing.
NGINX ?= /usr/sbin/nginx
EDGE_PACKAGES = nginx libnginx-mod-http-lua lua-resty-core lua-resty-lrucache
edge-tools:
	@if [ ! -x $(NGINX) ] || [ ! -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] \
			|| [ ! -f /usr/share/lua/5.1/resty/core.lua ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -q $(EDGE_PACKAGES); \
		else \
			echo "The edge needs nginx and its Lua module: sudo apt-get install $(EDGE_PACKAGES)" >&2; \
			exit 1; \
		fi; \
	fi

# Standard WebRTC clients the media tests talk to (tests/media/interop): GStreamer's webrtcbin
# driven by Debian's own Python (python3-gi serves /usr/bin/python3, not the virtualenv). Janus is
# the media server bench/stage_cost.py measures Salon against. As root we install them,
# otherwise we say what is missing.
GST_WEBRTC := /usr/lib/$(shell gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)/gstreamer-1.0/libgstwebrtc.so
media-tools:
	@if [ ! -f $(GST_WEBRTC) ] || ! /usr/bin/python3 -c 'import gi' 2>/dev/null || [ ! -x /usr/bin/janus ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -q gstreamer1.0-plugins-bad gstreamer1.0-plugins-good \
				gstreamer1.0-plugins-base gstreamer1.0-nice gstreamer1.0-tools python3-gi \
				gir1.2-gst-plugins-bad-1.0 gir1.2-gst-plugins-base-1.0 janus; \
		else \
			echo "The media interop tests need GStreamer and Janus: sudo apt-get install gstreamer1.0-plugins-bad gstreamer1.0-plugins-good gstreamer1.0-nice python3-gi gir1.2-gst-plugins-bad-1.0 janus" >&2; \
			exit 1; \
		fi; \
	fi

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache \
		web/node_modules src/salon/web
