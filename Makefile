# cookiecutter-mlops: the template's own tasks.
#   make demo   render the defaults into build/demo and run the generated project's pipeline
#   make test   all template tests (what .ci/run runs)
#   make manifest-diff / make manifest   compare / rewrite tests/expected_files.txt
UV ?= uv
RUN := $(UV) run --quiet
DEMO_DIR ?= $(CURDIR)/build/demo

# One uv cache is shared by every rendered project; Python compiles the modules a
# project imports when it first imports them (compiling all of them at setup costs a
# minute of CPU per project); interpreters come from the machine, never downloads.
export UV_COMPILE_BYTECODE ?= 0
export UV_PYTHON_DOWNLOADS ?= never
# Template tests that do not measure latency run on PARALLEL workers (pytest-xdist).
PARALLEL ?= 2
export MLFLOW_DISABLE_TELEMETRY := true

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-fast manifest manifest-diff lint format clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

setup: ## install the template's test tooling into .venv
	$(UV) sync --locked

demo: setup ## render the defaults into build/demo and run its full local pipeline (make all)
	rm -rf "$(DEMO_DIR)"
	$(RUN) cookiecutter --no-input --output-dir "$(DEMO_DIR)" .
	$(MAKE) -C "$(DEMO_DIR)/churn-prediction" setup all

# Two parts. First every test that times nothing, on $(PARALLEL) workers: renders,
# linters, the other combinations' `make ci`, the gates and report, cruft, the image.
# Then the tests marked `alone` (load gates, blue/green releases under load), one at a
# time with the machine to themselves.
test: setup lint ## every template test: render all option combinations and run their checks
	$(RUN) pytest -m "not alone" -n $(PARALLEL) --dist loadgroup
	$(RUN) pytest -m alone

test-fast: setup ## the quick subset: rendering, bad answers, file sets (no project pipelines)
	$(RUN) pytest -m "not slow" -n $(PARALLEL) --dist loadgroup

manifest-diff: setup ## how fresh renders differ from tests/expected_files.txt (exit 1 if they do)
	$(RUN) python -m tests.manifest --diff

manifest: setup ## rewrite tests/expected_files.txt after adding/removing template files on purpose
	$(RUN) python -m tests.manifest --write

lint: ## ruff on the template's own code (hooks, tests)
	$(RUN) ruff check hooks tests
	$(RUN) ruff format --check hooks tests

format: ## apply ruff's fixes and formatting
	$(RUN) ruff check --fix hooks tests
	$(RUN) ruff format hooks tests

clean: ## remove build/ and caches
	rm -rf build .pytest_cache .ruff_cache
