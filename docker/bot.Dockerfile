# The bot: aiogram, storage and the queue client. It never loads a model, so its image has no
# torch: `make install EXTRAS= TORCH_SPEC=` installs the core dependencies only.
# Build from the repository root: docker compose build bot

FROM python:3.11.14-slim-trixie AS build

# make runs the project's one install recipe (the Makefile's `install`); it stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml Makefile ./
# Empty packages stand in for the sources here, so the dependency layer is rebuilt only when
# pyproject.toml or the Makefile change; the final stage copies the real sources over them.
RUN mkdir bot worker sv2tts storage service \
    && touch bot/__init__.py worker/__init__.py sv2tts/__init__.py storage/__init__.py \
       service/__init__.py README.md
RUN --mount=type=cache,target=/root/.cache/pip \
    make install VENV=/opt/venv EXTRAS= TORCH_SPEC=

FROM python:3.11.14-slim-trixie

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data

# A fixed uid, so that docker-compose.yml's `user:` and the volume's owner agree. A new named
# volume takes the owner of /data from the image.
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --create-home --home-dir /home/app app \
    && mkdir /data \
    && chown app:app /data

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The sources stay owned by root: the service can read them, not change them.
COPY . .
RUN python -m compileall -q bot service storage worker

USER 10001:10001
CMD ["python", "-m", "bot"]
