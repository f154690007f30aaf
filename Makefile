# Two commands on a fresh machine: `make synth` and `make test`. Each creates .venv from the
# hash-pinned lock file when it is missing or older than the lock.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TAP_PROFILE ?= full
export TAP_PROFILE

.PHONY: synth test lint format bench lock pin discover check report diagram clean

# Bytecode is compiled at install: with PYTHONDONTWRITEBYTECODE set (as on CI), Python would
# otherwise recompile the large AWS binding modules on every run (about 2 s of each synth).
# TAP itself is installed editable last, for the `tap` command, built by the locked setuptools
# without build isolation (nothing is downloaded unpinned).
$(STAMP): requirements.lock requirements-bootstrap.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-bootstrap.lock
	$(VENV)/bin/uv pip sync --quiet --python $(PY) --require-hashes --compile-bytecode requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps --no-build-isolation --editable .
	touch $(STAMP)

# The wheels of TAP's signed Powertools layer, for the Lambda platforms, with the lock's hashes
# (synthesis builds the layer from them and has no network).
WHEELS := .build/wheels/.fetched
$(WHEELS): $(STAMP) requirements.lock lib/core/powertools.py tools/powertools_wheels.py
	$(PY) -m tools.powertools_wheels
	touch $(WHEELS)

TAP := $(VENV)/bin/tap

synth: $(STAMP) $(WHEELS)
	$(TAP) synth

# Line and branch coverage of lib/ (infrastructure and Lambda code); the floor is today's figure.
COVERAGE_FLOOR := 97

test: $(STAMP) $(WHEELS)
	bash scripts/ensure-test-servers.sh
	$(PY) -m pytest --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy lib tools bench tap.py
	cd lib/compute/app && MYPYPATH=../../lambda/payments_common:../../.. ../../../$(VENV)/bin/mypy --config-file ../../../pyproject.toml --cache-dir ../../../.mypy_cache/app --explicit-package-bases *.py
	for function in lib/lambda/*/; do (cd $$function && MYPYPATH=../payments_common:../rds_client:../ledger_store:../../.. ../../../$(VENV)/bin/mypy --config-file ../../../pyproject.toml --cache-dir ../../../.mypy_cache/lambda --explicit-package-bases *.py) || exit 1; done

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Every benchmark runs; the target fails at the end if any missed its target.
bench: $(STAMP) $(WHEELS)
	status=0; \
	$(PY) -m bench.synth_bench || status=1; \
	$(PY) -m bench.payments_bench || status=1; \
	$(PY) -m bench.check_bench || status=1; \
	bash scripts/ensure-test-servers.sh && $(PY) -m bench.ledger_bench || status=1; \
	exit $$status

# Optional, with AWS credentials: the account's existing GuardDuty detector, Config recorder and
# Security Hub subscription, written into TAP_CONFIG so the baseline adopts them.
discover: $(STAMP)
	$(TAP) discover

# The compliance gate (Checkov and TAP's rules over every profile), as `make test` runs it.
check: $(STAMP) $(WHEELS)
	$(TAP) check

# The PCI DSS v4.0 evidence report of TAP_PROFILE (`all`: every profile, with an index page).
report: $(STAMP) $(WHEELS)
	$(TAP) report --profile $(TAP_PROFILE)

# Every profile's architecture diagram, for the README (docs/diagrams/).
diagram: $(STAMP) $(WHEELS)
	bash scripts/ensure-test-servers.sh
	$(TAP) diagram --profile all

# Re-pin the addresses of stateful resources after a deliberate rename (add a moved block first).
pin: $(STAMP) $(WHEELS)
	$(PY) -m tools.stateful --write

# Re-resolve the lock files after editing requirements.in.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 requirements.in -o requirements.lock

clean:
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache .hypothesis
