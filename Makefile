# ketalog — every target sets itself up: a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DIST_STAMP := $(VENV)/.dist-stamp

.PHONY: setup run test lint bench demo screenshots guide-screenshots bedside-screenshots dist clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ketalog needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

## Open the app on the default database in the user data folder (KETALOG_DB overrides).
run: setup
	$(BIN)/ketalog

## The whole test suite (Qt offscreen), lint included.
test: setup
	$(BIN)/ruff check ketalog tests benchmarks docs tools
	$(BIN)/lint-imports
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check ketalog tests benchmarks docs tools
	$(BIN)/lint-imports
	$(BIN)/mypy

## Speed and scale measurements, printed as ratios against baselines run alongside.
bench: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run_all.py

## A demo clinic in ./demo.sqlite (passwords printed).
demo: setup
	rm -f demo.sqlite demo.sqlite-wal demo.sqlite-shm
	$(BIN)/ketalog --db demo.sqlite demo

## Regenerate docs/screenshots/ (and the user guides' pictures in docs/screenshots/guide/)
## from a fresh demo clinic (Xvfb if installed).
screenshots: setup
	if command -v xvfb-run >/dev/null; then \
		for script in make_screenshots make_feed_screenshots make_access_screenshots make_record_screenshots make_stock_screenshots; do \
			QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python docs/$$script.py || exit 1; \
		done; \
	else for script in make_screenshots make_feed_screenshots make_access_screenshots make_record_screenshots make_stock_screenshots; do \
		$(BIN)/python docs/$$script.py || exit 1; done; fi
	$(MAKE) guide-screenshots
	$(MAKE) bedside-screenshots

## The bedside screens at 1366x768 and 1920x1080 (docs/screenshots/bedside/) and the
## keyboard walk-through of a whole session at 1366x768 (docs/screenshots/walkthrough/,
## needs xvfb-run, xdotool and imagemagick; the database is checked afterwards).
bedside-screenshots: setup
	if command -v xvfb-run >/dev/null; then \
		for size in 1366x768 1920x1080; do \
			QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 $${size}x24" $(BIN)/python docs/make_bedside_screenshots.py || exit 1; \
		done; \
		xvfb-run -a -s "-screen 0 1366x768x24" $(BIN)/python docs/keyboard_walkthrough.py || exit 1; \
	else $(BIN)/python docs/make_bedside_screenshots.py; fi

## Only the user guides' pictures (docs/guide-*.md) in docs/screenshots/guide/.
guide-screenshots: setup
	if command -v xvfb-run >/dev/null; then \
		QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python docs/make_guide_screenshots.py; \
	else $(BIN)/python docs/make_guide_screenshots.py; fi

## The frozen one-folder build in dist/ketalog (PyInstaller; needs binutils), smoke-tested,
## then packed as dist/ketalog-<version>-linux-<arch>.tar.gz. Build on the OS you ship for.
$(DIST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dist]'
	@touch $(DIST_STAMP)

dist: $(DIST_STAMP)
	@command -v objdump >/dev/null || { echo "PyInstaller needs binutils (apt-get install binutils)"; exit 1; }
	rm -rf build/ketalog dist/ketalog
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN ketalog.spec
	cp packaging/linux/install.sh packaging/linux/ketalog.desktop \
	   packaging/linux/ketalog-hl7.service packaging/linux/ketalog-hl7.env dist/ketalog/
	$(BIN)/python tools/frozen_smoke.py dist/ketalog/ketalog
	version=$$($(BIN)/python -c 'import ketalog; print(ketalog.__version__)'); \
	archive=dist/ketalog-$$version-linux-$$(uname -m).tar.gz; \
	tar -C dist -czf $$archive ketalog && ls -l $$archive && du -sh dist/ketalog

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
