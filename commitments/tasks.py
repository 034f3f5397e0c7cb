"""Celery tasks: thin wrappers that take ids, re-fetch, and call a service."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def ping(message: str = "ping") -> str:
    """A health check for the worker and its broker: logs and returns the message."""
    logger.warning("pong: %s", message)
    return message
