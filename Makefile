# The two set-up commands of README.md: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
EXTRAS ?= test,tf,torch,notebooks,spark,jupyter

.PHONY: install demo test clean

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[$(EXTRAS)]'
	touch $@

install: $(VENV)/.installed-$(EXTRAS)

demo:  # the demo's extras only (TensorFlow, pandas), whatever EXTRAS says
	$(MAKE) --no-print-directory install EXTRAS=tf,pandas
	$(VENV)/bin/hopsfs-tools demo

test: install
	$(VENV)/bin/python -m pytest

clean:
	-$(VENV)/bin/hopsfs-tools cluster down
	rm -rf $(VENV) build *.egg-info
