# Two commands matter: `make demo` and `make test`. Both set themselves up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8866
export AGENTCOST_NB_HOME ?= $(CURDIR)/agentcost-data

.PHONY: install browser demo test bench lint sample clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	# The kernel Voila and the notebook tests start must be this venv's Python.
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (agentcost_nb)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

# Chromium for the browser tests, from Debian (Playwright cannot download one here).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: the browser tests will be skipped"; \
	else echo "no /usr/bin/chromium and cannot apt-get install it: the browser tests will be skipped"; fi

demo: install
	$(BIN)/agentcost-nb app --port $(PORT)

test: install browser
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check agentcost_nb tests bench
	$(BIN)/ruff format --check agentcost_nb tests bench
	$(BIN)/mypy agentcost_nb --ignore-missing-imports

# Regenerate the sample registry and event log shipped in data/.
sample: install
	$(BIN)/python data/make_sample.py

clean:
	rm -rf $(VENV) agentcost-data test-artifacts
