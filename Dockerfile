# Vigil's image: two stages, so the runtime image carries the installed package and no build
# tooling; it runs as a non-root user. Everything it installs comes from the package registry
# (pip); nothing else is downloaded while building.
#
#   docker build -t vigil .
#   docker run -e SLACK_BOT_TOKEN=… -e SLACK_SIGNING_SECRET=… -v $PWD/vigil.yaml:/app/vigil.yaml:ro \
#              -v vigil-data:/data -p 3000:3000 vigil
#
# Alone, the container migrates then serves (SQLite in /data). Under compose.yaml a one-shot
# `migrate` service runs `vigil db upgrade` against PostgreSQL first and the replicas only serve.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/vigil
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY workflows ./workflows
COPY store ./store
COPY migrations ./migrations
COPY prompts ./prompts
RUN /opt/vigil/bin/pip install ".[postgres]"

FROM python:3.11-slim AS runtime
# MPLCONFIGDIR: the vigil user has no writable home, and matplotlib (charts) wants a cache dir.
ENV PATH=/opt/vigil/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIGIL_DATABASE_URL=sqlite:////data/vigil.db \
    VIGIL_CONFIG=/app/vigil.yaml \
    VIGIL_LOG_FORMAT=json \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vigil \
    && mkdir -p /data /tmp/matplotlib \
    && chown vigil /data /tmp/matplotlib
COPY --from=build /opt/vigil /opt/vigil
WORKDIR /app
# The default playbooks folder (`playbooks:` is relative to /app/vigil.yaml); mount your own over it.
COPY playbooks ./playbooks

USER vigil
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status != 200)"]
CMD ["sh", "-c", "vigil db upgrade && exec vigil serve --host 0.0.0.0 --port 3000"]
