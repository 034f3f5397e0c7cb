"""Every network call has a timeout (issue 9): what the settings give each kind of process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.db import connection

from commitments import services
from tests.faults import ROOT

PRINT = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'db': settings.DATABASES['default'].get('OPTIONS', {}), "
    "'broker': settings.CELERY_BROKER_TRANSPORT_OPTIONS, "
    "'retry': settings.CELERY_TASK_PUBLISH_RETRY_POLICY, "
    "'cache': settings.CACHES['default']}, default=str))"
)
ENV = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/acc_settings_only",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "DJANGO_SETTINGS_MODULE": "accountability.settings",
}


def settings_of(argv: list[str]) -> dict:
    import os

    output = subprocess.run(
        [sys.executable, *argv],
        env={**os.environ, **ENV},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_web_processes_get_connect_and_statement_timeouts_and_bounded_publishing():
    web = settings_of(["-c", PRINT])
    assert web["db"]["connect_timeout"] == 5
    assert web["db"]["options"] == "-c statement_timeout=15000"
    assert web["broker"]["socket_timeout"] == 2
    assert web["broker"]["socket_connect_timeout"] == 2
    assert web["retry"]["max_retries"] == 1
    assert web["cache"]["BACKEND"] == "commitments.cache.ForgivingRedisCache"
    assert web["cache"]["OPTIONS"]["socket_timeout"] == 0.5


def test_management_commands_run_jobs_without_the_web_statement_timeout():
    job = settings_of(["manage.py", "shell", "-c", PRINT])
    assert job["db"]["connect_timeout"] == 5
    assert job["db"]["options"] == "-c statement_timeout=0"


@pytest.mark.django_db
def test_this_connection_has_the_web_timeout_and_the_stall_job_lifts_it():
    def statement_timeout():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            return cursor.fetchone()[0]

    assert statement_timeout() == "15s"
    services.flags_refresh()
    # SET LOCAL inside the job's transaction (here a savepoint of the test's).
    assert statement_timeout() == "0"
