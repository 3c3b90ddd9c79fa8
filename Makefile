# Two commands: `make run` (serve the embedded default with demo data) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app villageaid
PYTHON ?= python3

.PHONY: run test install install-dev translations messages clean

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

# Catalogues: Chinese msgids are the source (zh_CN needs no catalogue); translations/en is English.
# `make translations` compiles the .po files into the .mo files the app reads (gitignored);
# `make messages` re-extracts every msgid and merges new ones into the .po files, to translate.
TRANSLATIONS := platform/villageaid/translations
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2

translations: $(VENV)/.installed
	@if [ -d $(TRANSLATIONS) ]; then $(VENV)/bin/pybabel -q compile -d $(TRANSLATIONS); fi

messages: $(VENV)/.installed
	$(VENV)/bin/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --project=VillageAid --version=0.1.0 --copyright-holder=VillageAid \
	  --add-comments=TRANSLATORS: -o $(TRANSLATIONS)/messages.pot .
	$(VENV)/bin/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --ignore-obsolete --no-fuzzy-matching
	$(VENV)/bin/pybabel -q compile -d $(TRANSLATIONS)

run: install
	@if [ -f platform/villageaid/__init__.py ] && [ -d platform/villageaid/migrations ]; then \
	  $(FLASK) db upgrade && $(FLASK) demo seed --if-empty && $(FLASK) demo accounts && $(FLASK) serve; \
	else echo "the web application is not built yet"; exit 1; fi

# loadgroup: a module marked xdist_group (an expensive module fixture) runs on one worker; --durations:
# the slowest tests are printed at every run, to keep the suite inside its ten minutes.
PYTEST_ARGS ?= -n 4 --dist loadgroup --durations=25

test: install-dev
	$(PY) -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
