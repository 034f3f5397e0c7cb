"""Waiting in the browser tests for something the page does."""

from __future__ import annotations

import time


def wait_until(page, expression: str, seconds: float = 10) -> None:
    """Polls ``expression`` from outside the page. Playwright's ``wait_for_function`` builds
    a function from the string inside the page, which the site's Content-Security-Policy
    (no 'unsafe-eval') refuses, as it should."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {seconds} s: {expression}")
        time.sleep(0.05)
