"""The Celery app, configured from Django settings (CELERY_ namespace)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["console"])


@worker_ready.connect
def fail_jobs_of_dead_workers_on_this_host(**_: Any) -> None:
    """A worker starting on a host fails the jobs that died with an earlier worker there.

    When a whole worker is killed its messages wait, unacknowledged, for the broker's visibility
    timeout (an hour on Redis) and its beat died with it: without this, its jobs would stay In
    progress until another host's sweep noticed them.
    """
    from django.db import connection

    from console import lifecycle

    try:
        lifecycle.fail_jobs_of_dead_workers()
    finally:
        # The main process forks new pool processes later: it keeps no database connection.
        if not connection.in_atomic_block:  # (a test's transaction)
            connection.close()
