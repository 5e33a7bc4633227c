# Vigil: slim, non-root; migrates then serves. Mount your vigil.yaml at /app/vigil.yaml and
# a volume at /data for the embedded SQLite store (or set VIGIL_DATABASE_URL to PostgreSQL).
# MPLCONFIGDIR: the non-root user has no writable home, and matplotlib (charts) wants a cache.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIGIL_DATABASE_URL=sqlite:////data/vigil.db \
    VIGIL_CONFIG=/app/vigil.yaml \
    VIGIL_LOG_FORMAT=json \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY workflows ./workflows
COPY store ./store
COPY migrations ./migrations
COPY prompts ./prompts
COPY playbooks ./playbooks
RUN pip install ".[postgres]" \
    && useradd --system --uid 10001 --home-dir /app vigil \
    && mkdir -p /data && chown vigil /data

USER vigil
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status != 200)"
CMD ["sh", "-c", "vigil db upgrade && exec vigil serve --host 0.0.0.0 --port 3000"]
