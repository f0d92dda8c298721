# Two commands: `make run` and `make test`. Everything else here is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := tests/node/node_modules/.installed

.PHONY: run test install node-deps lock chat playground clean bench image deploy

run: $(STAMP)
	$(BIN)/policy-bot serve --local

# Two worker processes (pytest-xdist), each taking a whole test file at a time: much of the suite waits on
# subprocesses and sockets, so two share the 2 cores well. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# The Teams manifest schema comes from Microsoft's npm package, pinned by package-lock.json.
node-deps: $(NODE_STAMP)

$(NODE_STAMP): tests/node/package.json tests/node/package-lock.json
	cd tests/node && npm ci --silent --no-audit --no-fund
	touch $@

chat: $(STAMP)
	$(BIN)/policy-bot chat

# Microsoft 365 Agents Playground, talking to the bot that `make run` started, on http://localhost:56150.
# TEAMSAPPTESTER_BROWSER=none: it does not try to open a browser (without one it exits at once);
# --disable-telemetry: it sends Microsoft no usage data. It stops when you press Ctrl-C.
BOT_URL ?= http://127.0.0.1:3978/api/messages
PLAYGROUND_PORT ?= 56150
playground: $(NODE_STAMP)
	@echo "Agents Playground for $(BOT_URL): open http://localhost:$(PLAYGROUND_PORT) in a browser"
	TEAMSAPPTESTER_BROWSER=none tests/node/node_modules/.bin/agentsplayground -e $(BOT_URL) -c msteams \
		-p $(PLAYGROUND_PORT) --disable-telemetry

# Re-pin every dependency after editing pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header --no-annotate -o requirements.lock

# The container image (Dockerfile), with Docker or else Podman (in Docker's format, which keeps the HEALTHCHECK).
# IMAGE=name:tag names it; IMAGE_BUILD_ARGS passes more, e.g. --build-arg PYTHON_IMAGE=<a local base>.
IMAGE ?= genai-policy-bot:latest
image:
	@if docker info >/dev/null 2>&1; then engine=docker; elif command -v podman >/dev/null 2>&1; then engine="podman"; format="--format docker"; \
	else echo "make image: needs Docker (with its daemon running) or Podman; neither is available here" >&2; exit 1; fi; \
	echo "building $(IMAGE) with $$engine" >&2; $$engine build $$format -t $(IMAGE) $(IMAGE_BUILD_ARGS) .

# Azure resources (infra/main.bicep), with the Azure CLI signed in: make deploy RESOURCE_GROUP=rg-policy-bot
deploy:
	@test -n "$(RESOURCE_GROUP)" || { echo "make deploy: set RESOURCE_GROUP=<an existing resource group>" >&2; exit 1; }
	az deployment group create --resource-group $(RESOURCE_GROUP) --template-file infra/main.bicep \
	  --parameters infra/main.parameters.json $(DEPLOY_PARAMETERS)

clean:
	rm -rf $(VENV) tests/node/node_modules data
