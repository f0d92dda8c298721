# Two commands: `make run` and `make test`. Everything else here is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := tests/node/node_modules/.installed

.PHONY: run test install node-deps lock chat playground clean bench

run: $(STAMP)
	$(BIN)/policy-bot serve --local

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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

clean:
	rm -rf $(VENV) tests/node/node_modules data
