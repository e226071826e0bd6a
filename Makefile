# cookiecutter-mlops: the template's own tasks.
#   make demo   render the defaults into build/demo and run the generated project's pipeline
#   make test   all template tests (what .ci/run runs)
#   make manifest-diff / make manifest   compare / rewrite tests/expected_files.txt
UV ?= uv
RUN := $(UV) run --quiet
DEMO_DIR ?= $(CURDIR)/build/demo
# The system programs the template tests run (tests/system_tools.py TOOLS): `make system-deps`
# installs them with the generated project's own script, the one table of system tools.
SYSTEM_TOOLS := git make nginx prometheus promtool shellcheck podman runc skopeo docker-registry debootstrap postgresql wrk
SYSTEM_DEPS := bash "{{cookiecutter.project_slug}}/tools/system-deps.sh"
# Debian keeps nginx, runc and debootstrap in sbin folders, not on every user's PATH.
export PATH := $(PATH):/usr/local/sbin:/usr/sbin:/sbin

# One uv cache is shared by every rendered project; Python compiles the modules a
# project imports when it first imports them (compiling all of them at setup costs a
# minute of CPU per project); interpreters come from the machine, never downloads.
export UV_COMPILE_BYTECODE ?= 0
export UV_PYTHON_DOWNLOADS ?= never
# Compiling on first import needs Python to be allowed to keep the bytecode: CI images
# that set PYTHONDONTWRITEBYTECODE would recompile every import in every command.
unexport PYTHONDONTWRITEBYTECODE
# Template tests that do not measure latency run on PARALLEL workers (pytest-xdist).
PARALLEL ?= 2
# Phase 2's project pipelines wait on services, releases, builds and bakes much of the
# time (the fault tests use 47 % of a core over their 5 minutes): on 2 cores, 2 workers
# kept them 65 % busy and phase 2 took 603 s, 3 took 569 s, 4 keep them 96 % busy in
# its main part and took 450 s (measured).
PIPELINES ?= 4
export MLFLOW_DISABLE_TELEMETRY := true

.DEFAULT_GOAL := help
.PHONY: help system-deps setup demo demo-clean-machine test test-fast manifest manifest-diff locks lint format clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

system-deps: ## install the system programs the tests run (Debian/Ubuntu apt; elsewhere: what to install)
	@$(SYSTEM_DEPS) $(SYSTEM_TOOLS)

setup: ## install the template's test tooling into .venv
	$(UV) sync --locked

demo: setup ## render the defaults into build/demo and run its full local pipeline (make all)
	rm -rf "$(DEMO_DIR)"
	$(RUN) cookiecutter --no-input --output-dir "$(DEMO_DIR)" .
	$(MAKE) -C "$(DEMO_DIR)/churn-prediction" system-deps setup all

demo-clean-machine: ## `make demo` from a clean clone in a fresh Debian container (Python, make, git, uv only; podman)
	.ci/clean-machine-demo

# Two phases, so that both cores stay busy without disturbing what measures time:
# 1. The tests marked `alone` (the default project's `make all`: load gates, blue/green
#    releases under load), one at a time, and beside them, at the lowest CPU priority
#    (nice 19), the quick tests (renders, linters, bad answers, file sets), the slow ones
#    marked `beside` (promtool's alert tests, the missing-tool runs, the retraining
#    workflow: no clock, no timeout a starved process could hit) and the base image the
#    image and CD tests build FROM (tests/podman.py: built once on a clean machine, a
#    minute of CPU, then cached): they take only the CPU the `alone` tests leave idle,
#    so the load gates still have the machine. Each part's report is printed when it
#    ends (make --output-sync).
# 2. The project pipelines and other slow tests that time nothing, on $(PIPELINES)
#    workers, longest first (tests/conftest.py): the other combinations' `make ci`,
#    a user's own data, the gates and report, the image, the AWS and no-cloud CD, the
#    fault tests. Rendered projects run their unit tests in one process there
#    (TEST_WORKERS=0): the cores are busy with other tests, and xdist's workers would
#    each import and build the same session fixtures (25% more CPU, measured).
# A missing system program stops the run at once (tests/system_tools.py); to run
# without one on purpose: ALLOW_MISSING_TOOLS=podman,... make test
# First the rendered projects' dependencies are compiled once in uv's shared cache
# (tests/warm_bytecode.py): each project's .venv then links the bytecode instead of
# compiling the same modules again.
test: system-deps setup lint ## every template test: render all option combinations and run their checks
	$(RUN) python -m tests.warm_bytecode
	$(MAKE) --no-print-directory -j3 --output-sync=target test-alone test-quick-beside test-base-image
	TEST_WORKERS=0 $(RUN) pytest -m "slow and not alone and not beside" -n $(PIPELINES) --dist loadgroup --no-loadscope-reorder

.PHONY: test-alone test-quick-beside test-base-image
test-alone: # phase 1 of `make test`
	$(RUN) pytest -m alone

test-quick-beside: # phase 1 of `make test`: the quick tests and those marked `beside`, at nice 19
	nice -n 19 $(RUN) pytest -m "(not slow or beside) and not alone" -n $(PARALLEL) --dist loadgroup

test-base-image: # phase 1 of `make test`: the base image for phase 2's image and CD tests, at nice 19
	nice -n 19 $(RUN) python -m tests.podman

test-fast: system-deps setup ## the quick subset: rendering, bad answers, file sets (no project pipelines)
	$(RUN) pytest -m "not slow" -n $(PARALLEL) --dist loadgroup

locks: setup ## re-resolve the generated project's uv.lock for each Python version (UPGRADE=1: newest)
	$(RUN) python -m tests.locks $(if $(UPGRADE),--upgrade,)

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
