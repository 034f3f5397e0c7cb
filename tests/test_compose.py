"""No Docker engine runs here, so docker-compose.yml is kept right by reading it."""

import re
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "accountability" / "settings.py").read_text()
NGINX = (ROOT / "deploy" / "nginx.conf").read_text()


def nginx_directives(block: str) -> dict[str, list[str]]:
    """``name value...;`` lines of the nginx configuration inside the first block named
    ``block`` (e.g. ``location /``), comments dropped; repeated names are joined."""
    text = re.sub(r"#.*", "", NGINX)
    start = text.index(block + " {") + len(block) + 2
    depth, end = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        end += 1
    found: dict[str, list[str]] = {}
    for statement in re.findall(r"^\s*([a-z_0-9]+)\s+([^;{}]*);", text[start:end], re.M):
        found.setdefault(statement[0], []).append(statement[1].strip())
    return found


def test_compose_has_the_five_services_with_health_checks():
    services = COMPOSE["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
        assert services[name]["healthcheck"]["test"], name


def test_app_services_run_the_right_commands():
    services = COMPOSE["services"]
    web = services["web"]["command"]
    assert web[:3] == ["granian", "--interface", "wsgi"]
    assert web[-1] == "accountability.wsgi:application"
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
    readers = r'env(?:\.\w+)?\("([A-Z_]+)"'
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


def test_web_is_granian_as_in_the_procfile_and_reached_only_through_the_proxy():
    services = COMPOSE["services"]
    procfile = (ROOT / "Procfile").read_text()
    web_line = next(line for line in procfile.splitlines() if line.startswith("web:"))
    assert web_line.split()[1:4] == ["granian", "--interface", "wsgi"]
    assert "accountability.wsgi:application" in web_line
    assert "ports" not in services["web"], "only the proxy may publish a port"
    assert services["web"]["expose"] == ["8000"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["ports"] == ["8000:80"]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert proxy["healthcheck"]["test"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"granian", "--interface", "wsgi"' in dockerfile
    # The social preview images are drawn in DejaVu (commitments/previews.py).
    assert "fonts-dejavu-core" in dockerfile


def test_the_proxy_buffers_cuts_off_slow_clients_and_sets_the_forwarded_headers():
    upstream = nginx_directives("upstream app")
    assert upstream["server"] == ["web:8000"]
    http = nginx_directives("http")
    for name in ("client_header_timeout", "client_body_timeout"):
        seconds = int(http[name][0].removesuffix("s"))
        assert 0 < seconds <= 30, name
    location = nginx_directives("location /")
    assert location["proxy_pass"] == ["http://app"]
    assert location.get("proxy_buffering", ["on"]) == ["on"]
    assert location.get("proxy_request_buffering", ["on"]) == ["on"]
    headers = dict(value.split(None, 1) for value in location["proxy_set_header"])
    assert headers["X-Forwarded-Proto"] == "$scheme"  # overwritten, never passed through
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["Host"] == "$host"
    assert "proxy_read_timeout" in location and "proxy_connect_timeout" in location


def test_the_app_trusts_exactly_the_one_proxy_compose_puts_in_front():
    env = COMPOSE["services"]["web"]["environment"]
    assert env["TRUSTED_PROXY"] == "1"
    assert env["TRUSTED_PROXY_COUNT"] == "1"
    assert "SECURE_SSL_REDIRECT" not in env  # follows SITE_URL's scheme


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
