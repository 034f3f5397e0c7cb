# The two commands: `make run` and `make test`. Both make the virtualenv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/accountability

.PHONY: run test venv venv-dev messages lint bench bench-web bench-idle bench-alerts clean

$(VENV)/.runtime: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# The French catalogues (issue 13), compiled from the .po files in git (GNU gettext's
# msgfmt, Debian's gettext package). A .po newer than its .mo is compiled again.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)
%.mo: %.po
	msgfmt --check-format -o $@ $<

venv: $(VENV)/.runtime $(MO_FILES)
venv-dev: $(VENV)/.dev $(MO_FILES)
messages: $(MO_FILES)

## Serve the app at http://127.0.0.1:8000/ with a Celery worker and beat. Ctrl-C stops all.
## As production serves: granian, DEBUG off (DEBUG=1 to turn it on), a secret key made on
## first run and kept in var/secret_key, hashed static files.
## No variables: SQLite in var/ and a broker that needs no server. Set DATABASE_URL and
## CELERY_BROKER_URL for PostgreSQL and Redis.
run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_seeds
	$(BIN)/python manage.py refresh_flags
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile start

## The whole suite on PostgreSQL (DATABASE_URL, default: the local server).
test: venv-dev
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(BIN)/python -m pytest

## The stall job over 1,000,000 commitments against a bare UPDATE, in its own database
## (accountability_bench on the DATABASE_URL server; created if missing). Prints figures.
BENCH_COMMITMENTS ?= 1000000
bench: venv
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(BIN)/python manage.py bench_flag_stalled --commitments $(BENCH_COMMITMENTS)

## The public pages under wrk as ratios to a bare view, on seed, 10,000 and 100,000
## commitments, in its own database (accountability_bench_web). Prints figures.
BENCH_WEB_SIZES ?= seed,10000,100000
bench-web: venv-dev
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(BIN)/python bench/web.py --sizes $(BENCH_WEB_SIZES)

## Idle and slow-header clients against granian, uvicorn, gunicorn gthread and sync (wrk).
bench-idle: venv-dev
	$(BIN)/python bench/idle_clients.py

## Email alerts: one event fanned out to 100,000 followers (target < 2 s), then the delivery
## rate through aiosmtpd against the server's bare rate, A B A B (accountability_bench_alerts).
BENCH_ALERT_MAILS ?= 5000
bench-alerts: venv-dev
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(BIN)/python bench/alerts.py --mails $(BENCH_ALERT_MAILS)

lint: venv-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
