# syntax=docker/dockerfile:1
# genai-policy-bot as a container: `policy-bot serve` on port 3978, settings from the environment.
#
#   make image                      # or: docker build -t genai-policy-bot .
#   docker run -e MicrosoftAppId=… -e MicrosoftAppType=UserAssignedMSI -e DATABASE_URL=postgresql://… \
#              -p 3978:3978 --read-only --tmpfs /tmp genai-policy-bot
#
# Run `policy-bot db upgrade` once per release before starting instances (docs/runbook.md):
#   docker run --rm -e DATABASE_URL=… genai-policy-bot db upgrade

# A versioned tag, never "latest". Checkov cannot see through the ARG, hence the skips below, each on a FROM
# that uses it. Override only to build from a local base, e.g. one made with mmdebstrap:
#   make image IMAGE_BUILD_ARGS="--build-arg PYTHON_IMAGE=<local base>"
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtual environment holding the app and exactly the pinned dependencies ----
# checkov:skip=CKV_DOCKER_7: the tag is ARG PYTHON_IMAGE's default, python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python3 -m venv /opt/policy-bot
COPY requirements.lock pyproject.toml README.md ./
COPY bot ./bot
COPY cards ./cards
COPY cli ./cli
COPY dialogs ./dialogs
COPY domain ./domain
COPY manifest ./manifest
COPY storage ./storage
# requirements.lock pins every dependency; as a constraint it fixes their versions while pip installs only
# what the app needs (the lock also holds the test tools, which stay out of the image).
RUN /opt/policy-bot/bin/pip install --constraint requirements.lock . \
    && /opt/policy-bot/bin/python -m compileall -q /opt/policy-bot/lib

# ---- runtime: the same slim base, no compilers, no pip cache, a user without a shell ----
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="genai-policy-bot" \
      org.opencontainers.image.description="Microsoft Teams bot that helps council staff follow the generative AI policy" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 policybot \
    && useradd --system --uid 10001 --gid policybot --home-dir /nonexistent --no-create-home \
               --shell /usr/sbin/nologin policybot \
    && mkdir -p /app /var/lib/policy-bot \
    && chown policybot:policybot /var/lib/policy-bot
# Owned by root, modes as pip made them (644/755): the process running the code cannot change it.
COPY --from=build --chown=root:root /opt/policy-bot /opt/policy-bot
WORKDIR /app
ENV PATH=/opt/policy-bot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=3978 \
    LOG_FORMAT=json \
    DATABASE_URL=sqlite:////var/lib/policy-bot/policy-bot.db
USER 10001:10001
EXPOSE 3978
# /healthz answers while the process is alive; /readyz (database reachable and migrated) is for load balancers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3978'), timeout=4)"]
ENTRYPOINT ["policy-bot"]
CMD ["serve"]
