# The two commands of the quickstart: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench fuzz parser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# `make demo`: demo.ipynb in JupyterLab. With HEADLESS=1 (or in CI) it is executed in a fresh
# kernel instead and written to demo.html. Rebuild the notebook from derivmagic/examples.py with
# `$(PY) -m derivmagic.examples --notebook demo.ipynb`.
NOTEBOOK   := demo.ipynb
DEMO_STAMP := $(VENV)/.installed-notebook
HEADLESS   ?= $(if $(filter-out 0 false no,$(CI)),1,)

$(DEMO_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,notebook]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
ifeq ($(filter 1 true yes,$(HEADLESS)),)
	$(VENV)/bin/jupyter lab $(NOTEBOOK)
else
	$(VENV)/bin/jupyter nbconvert --to html --execute $(NOTEBOOK) --output demo.html
endif

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run.py

# the parser's tables shipped beside grammar.lark (loaded in ~10 ms instead of built in ~130 ms):
# regenerate them whenever grammar.lark changes (tests/test_parser_tables.py fails until then)
parser: $(STAMP)
	$(PY) -c "from derivmagic.parse import SHIPPED_PARSER, write_parser; write_parser('derivmagic/' + SHIPPED_PARSER)"

fuzz: $(STAMP)
	$(PY) -m pytest tests -m fuzz -p no:cacheprovider

clean:
	rm -rf $(VENV) demo.html .pytest_cache
