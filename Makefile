# The two set-up commands of README.md: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
EXTRAS ?= test,tf,torch,notebooks,spark

.PHONY: install demo test clean

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[$(EXTRAS)]'
	touch $@

install: $(VENV)/.installed-$(EXTRAS)

demo: install
	$(VENV)/bin/hopsfs-tools cluster up
	$(VENV)/bin/hopsfs-tools cluster status

test: install
	$(VENV)/bin/python -m pytest

clean:
	-$(VENV)/bin/hopsfs-tools cluster down
	rm -rf $(VENV) build *.egg-info
