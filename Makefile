# Two commands: `make run` serves the seeded demo site, `make test` runs the whole suite.
VENV := .venv
PY := $(VENV)/bin/python
export FLASK_APP := app:create_app
APT := DEBIAN_FRONTEND=noninteractive apt-get -y -q

.PHONY: run test setup system-deps translations bench-submit bench-query bench-pages bench-load bench-api clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(PY) -m flask translate compile >/dev/null

# Debian's Chromium (with a Chinese font, so layout tests measure real text) and PostgreSQL for the browser and PostgreSQL tests; installed only as root and only when missing.
system-deps:
	@if [ "$$(id -u)" = 0 ]; then \
	  missing=""; \
	  [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	  [ -d /usr/share/fonts/truetype/wqy ] || missing="$$missing fonts-wqy-microhei"; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  if [ -n "$$missing" ]; then echo "Installing$$missing with apt-get"; \
	    apt-get update -q >/dev/null && $(APT) install $$missing >/dev/null || echo "Could not install$$missing"; fi; \
	else echo "Not root: browser/PostgreSQL tests run only if chromium and postgresql are already installed."; fi

run: setup
	$(PY) -m flask db upgrade
	$(PY) -m flask demo --if-empty
	@echo "Serving http://127.0.0.1:5000 and delivering webhooks and e-mails (flask worker) (Ctrl+C to stop)"
	@$(PY) -m flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEMO_MODE=1 $(VENV)/bin/waitress-serve --host 127.0.0.1 --port 5000 --threads 8 --call app:create_app

test: setup system-deps
	$(PY) -m pytest -q -p no:cacheprovider

bench-submit: setup
	$(PY) bench/submit.py

bench-query: setup
	$(PY) bench/query.py --queue

bench-pages: setup
	$(PY) bench/pages.py

bench-load: setup
	$(PY) bench/load.py

bench-api: setup
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) instance/*.sqlite3
