# lassolabel on a GPU box. Build: docker build -t lassolabel .
# The CUDA user-space libraries come with the torch wheel; the base image provides the
# CUDA runtime environment the NVIDIA container toolkit expects.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential curl \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

WORKDIR /opt/lassolabel
# Dependencies first, so code changes do not reinstall torch.
RUN pip install torch==2.14.1 torchvision==0.29.1
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY frontend ./frontend
RUN pip install ".[postgres]" && python -c "import app.main"

RUN useradd --create-home --uid 10001 lassolabel \
    && mkdir -p /data && chown lassolabel:lassolabel /data
USER lassolabel

ENV LASSOLABEL_DATA_DIR=/data \
    LASSOLABEL_HOST=0.0.0.0 \
    LASSOLABEL_PORT=8000
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/api/health || exit 1

CMD ["lassolabel", "serve"]
