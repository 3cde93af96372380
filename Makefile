# The two set-up commands of README.md: `make demo` and `make test`; `make docs` serves the docs site.
# The venv keeps the pip `python3 -m venv` gives it (pip >= 23.0 works; nothing here needs a newer one).
PYTHON ?= python3
VENV   := .venv
# Kerberos (extra `kerberos`, tests/clusters/test_kerberos.py) needs MIT Kerberos packages: .ci/run adds it.
EXTRAS ?= test,tf,torch,notebooks,spark,jupyter,docs,tools

.PHONY: install demo test docs clean

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)  # an existing venv keeps its pip
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[$(EXTRAS)]'
	touch $@

install: $(VENV)/.installed-$(EXTRAS)

demo:  # the demo's extras only (TensorFlow, pandas), whatever EXTRAS says
	$(MAKE) --no-print-directory install EXTRAS=tf,pandas
	$(VENV)/bin/hopsfs-tools demo

test: install
	$(VENV)/bin/python -m pytest

docs:  # the docs site (mkdocs.yml, docs/) on http://127.0.0.1:8000, rebuilt as pages change
	$(MAKE) --no-print-directory install EXTRAS=docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

clean:
	-$(VENV)/bin/hopsfs-tools cluster down
	rm -rf $(VENV) build *.egg-info
