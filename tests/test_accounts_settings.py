"""The sign-in settings read from the environment, in a fresh process as a deploy runs."""

from __future__ import annotations

import json

import pytest

from .embedded import embedded_environment, manage

SHOW = (
    "import json; from django.conf import settings as s; print('SETTINGS', json.dumps(["
    "s.REQUIRE_2FA, s.AXES_ENABLED, s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), "
    "s.AXES_LOCKOUT_PARAMETERS, s.AUTHENTICATION_BACKENDS[0]]))"
)
AXES_BACKEND = "axes.backends.AxesStandaloneBackend"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"DEBUG": "1"}, [False, True, 5, 900.0]),
        ({"DEBUG": "0", "SECRET_KEY": "x" * 50}, [True, True, 5, 900.0]),
        ({"DEBUG": "0", "SECRET_KEY": "x" * 50, "REQUIRE_2FA": "0"}, [False, True, 5, 900.0]),
        ({"DEBUG": "1", "REQUIRE_2FA": "1"}, [True, True, 5, 900.0]),
        (
            {"DEBUG": "1", "AXES_FAILURE_LIMIT": "3", "AXES_COOLOFF_MINUTES": "2"},
            [False, True, 3, 120.0],
        ),
    ],
)
def test_sign_in_settings_come_from_the_environment(tmp_path, variables, expected):
    env = embedded_environment(tmp_path) | variables
    out = manage(env, "shell", "-c", SHOW)
    line = next(line for line in out.splitlines() if line.startswith("SETTINGS "))
    values = json.loads(line.removeprefix("SETTINGS "))
    assert values == [*expected, ["username", "ip_address"], AXES_BACKEND]
