"""No Docker engine runs here, so docker-compose.yml is kept right by reading it."""

import re
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "accountability" / "settings.py").read_text()


def test_compose_has_the_five_services_with_health_checks():
    services = COMPOSE["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
        assert services[name]["healthcheck"]["test"], name


def test_app_services_run_the_right_commands():
    services = COMPOSE["services"]
    assert services["web"]["command"][0] == "gunicorn"
    assert "accountability.wsgi" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "--app", "accountability", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "--app", "accountability", "beat"]
    assert services["beat"].get("deploy", {}).get("replicas") == 1
    migrate = " ".join(services["migrate"]["command"])
    assert "migrate" in migrate and "load_seeds" in migrate
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    assert (ROOT / "Dockerfile").exists()


def test_app_environment_names_only_settings_that_exist():
    services = COMPOSE["services"]
    env = services["web"]["environment"]
    for name in ("worker", "beat", "migrate"):
        assert services[name]["environment"] == env
    readers = r'env(?:_bool|_int|_list|_float)?\("([A-Z_]+)"'
    read_by_settings = set(re.findall(readers, SETTINGS_SOURCE))
    read_by_settings |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', SETTINGS_SOURCE))
    unknown = set(env) - read_by_settings
    assert not unknown, f"compose sets variables the settings never read: {unknown}"
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"} <= set(env)


def test_app_urls_point_at_the_compose_services():
    env = COMPOSE["services"]["web"]["environment"]
    pg = COMPOSE["services"]["postgres"]["environment"]
    assert env["DATABASE_URL"] == (
        f"postgres://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
    )
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["DEBUG"] == "0"


def test_broker_and_cache_use_separate_redis_databases_and_redis_never_evicts():
    """Issue 9: a cache filling Redis must not evict queued tasks."""
    from urllib.parse import urlsplit

    env = COMPOSE["services"]["web"]["environment"]
    broker, cache = urlsplit(env["CELERY_BROKER_URL"]), urlsplit(env["REDIS_URL"])
    assert broker.netloc == cache.netloc
    assert broker.path != cache.path, "broker and cache share a Redis database"
    assert (broker.path, cache.path) == ("/0", "/1")
    command = COMPOSE["services"]["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert "CELERY_RESULT_BACKEND = None" in SETTINGS_SOURCE
