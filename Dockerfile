# syntax=docker/dockerfile:1
# Banatie's image: `docker build -t banatie .` (deploy/README.md runs it with compose or helm).
# Every compiled runtime dependency ships as a manylinux wheel (libvips comes inside pyvips-binary,
# libpq inside psycopg-binary; the rest is pure Python), so neither stage needs a compiler or a
# package from apt (tests/deploy/test_dockerfile.py checks the wheels against the base).
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/banatie
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/banatie/bin/pip install .

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="banatie" \
      org.opencontainers.image.description="Prompt in, production-ready image out."
RUN groupadd --system --gid 10001 banatie \
    && useradd --system --uid 10001 --gid banatie --home-dir /data --no-create-home banatie \
    && mkdir /data && chown banatie:banatie /data
COPY --from=build /opt/banatie /opt/banatie
# PORT and BANATIE_WORKERS are read by `banatie serve`; /data holds SQLite and local blobs when
# no PostgreSQL or S3 URL is given (mount a volume there), and a .env file if you put one.
ENV PATH=/opt/banatie/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8000 \
    BANATIE_WORKERS=1 \
    BANATIE_DATA_DIR=/data
WORKDIR /data
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["banatie", "serve", "--host", "0.0.0.0"]
