# The two commands of the quickstart: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench fuzz clean

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

fuzz: $(STAMP)
	$(PY) -m pytest tests -m fuzz -p no:cacheprovider

clean:
	rm -rf $(VENV) demo.html .pytest_cache
