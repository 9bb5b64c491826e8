# The worker: the SV2TTS engine on torch 2.13.0 (the version is the Makefile's TORCH_SPEC).
# TORCH_INDEX_URL chooses the torch build. Empty means PyPI, whose Linux x86_64 wheel is the
# CUDA build and brings the CUDA libraries as pip packages, so a plain Python base image is
# enough: the host's NVIDIA driver comes in through the NVIDIA Container Toolkit.
# docker/compose.cpu.yml passes https://download.pytorch.org/whl/cpu for a CPU-only image.
# Build from the repository root: docker compose build worker

FROM python:3.11.14-slim-trixie AS build

# make runs the project's one install recipe (the Makefile's `install`); it stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml Makefile ./
# Empty packages stand in for the sources here, so the multi-GB dependency layer is rebuilt only
# when pyproject.toml or the Makefile change; the final stage copies the real sources over them.
RUN mkdir bot worker sv2tts storage service \
    && touch bot/__init__.py worker/__init__.py sv2tts/__init__.py storage/__init__.py \
       service/__init__.py README.md
ARG TORCH_INDEX_URL=
RUN --mount=type=cache,target=/root/.cache/pip \
    make install VENV=/opt/venv EXTRAS=engine TORCH_INDEX_URL="${TORCH_INDEX_URL}"

FROM python:3.11.14-slim-trixie

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SV2TTS_WEIGHTS_DIR=/weights

# A fixed uid, so that docker-compose.yml's `user:` and the volume's owner agree. A new named
# volume takes the owner of /weights from the image, so the worker can download into it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --create-home --home-dir /home/app app \
    && mkdir /weights \
    && chown app:app /weights

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The sources stay owned by root: the service can read them, not change them.
COPY . .
RUN python -m compileall -q bot service storage sv2tts worker

USER 10001:10001
# Fetches and verifies missing weights (once, under a lock), then runs the command.
ENTRYPOINT ["sh", "/app/docker/worker-entrypoint.sh"]
CMD ["python", "-m", "worker"]
