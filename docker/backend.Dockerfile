# mus backend image: the api and the streaq worker run from it (see docker-compose.yml).
# Build from the repository root: docker build -f docker/backend.Dockerfile .
# backend/requirements.txt is exported from backend/uv.lock by `make back-lock`.
FROM python:3.11-slim

ARG UV_VERSION=0.13.9
ARG MUS_UID=1000
ARG MUS_GID=1000

# ffmpeg/ffprobe: slow analysis (accurate duration, cover extraction).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir "uv==${UV_VERSION}"

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app/src \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    DATA_DIR_PATH=/data \
    MUSIC_DIR_PATH=/music \
    PORT=8000

WORKDIR /app
RUN groupadd --gid "${MUS_GID}" mus \
    && useradd --uid "${MUS_UID}" --gid mus --home-dir /app --no-create-home mus \
    && uv venv --python /usr/local/bin/python3.11 /opt/venv \
    && mkdir -p /data /music \
    && chown -R mus:mus /opt/venv /data /music /app

COPY --chown=mus:mus backend/requirements.txt /app/requirements.txt
# As mus, so the development override can re-sync the venv when the lock changes.
USER mus
RUN uv pip sync /app/requirements.txt
COPY --chown=mus:mus backend/src /app/src

VOLUME ["/data", "/music"]
EXPOSE 8000
CMD ["sh", "-c", "exec uvicorn mus.main:app --host 0.0.0.0 --port \"${PORT}\""]
