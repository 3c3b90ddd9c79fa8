# Two commands: `make run` (serve the embedded default with demo data) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app villageaid
PYTHON ?= python3

.PHONY: run test install install-dev translations clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

install-dev: $(VENV)/.installed-dev translations

translations: $(VENV)/.installed
	@if [ -d platform/villageaid/translations ]; then $(VENV)/bin/pybabel compile -q -d platform/villageaid/translations -f; fi

run: install
	@if [ -f platform/villageaid/__init__.py ] && [ -d platform/villageaid/migrations ]; then \
	  $(FLASK) db upgrade && $(FLASK) demo seed --if-empty && $(FLASK) demo accounts && $(FLASK) serve; \
	else echo "the web application is not built yet"; exit 1; fi

test: install-dev
	$(PY) -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
