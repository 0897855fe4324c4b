# Two entry points do all the set-up on a fresh machine:
#   make demo   - the sketch -> landing page -> narrated video demo, offline, on the embedded models
#   make test   - the test suite (real models, real Chromium, no network)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# llama.cpp builds from source here; a portable build keeps pip's cached wheel valid on other CPUs
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test system venv install-demo install-test lint bench clean

demo: install-demo
	$(BIN)/agent demo sketch-to-video

test: install-test
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/ruff check agent modalities tools planners tests benchmarks examples

# Debian packages: Chromium for the browser tools, espeak-ng as the fallback voice.
system:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v espeak-ng >/dev/null 2>&1 || missing="$$missing espeak-ng"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "please install:$$missing (sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

venv: $(BIN)/python

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[demo]'
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[all,demo,dev]'
	touch $@ $(VENV)/.demo-installed

install-demo: system $(VENV)/.demo-installed
install-test: system $(VENV)/.test-installed

bench: install-test
	$(BIN)/python benchmarks/runtime.py
	$(BIN)/python benchmarks/taskbench.py --planner symbolic
	$(BIN)/python benchmarks/sketch_detection.py
	$(BIN)/python benchmarks/media.py
	$(BIN)/python benchmarks/e2e.py

clean:
	rm -rf $(VENV) build *.egg-info
