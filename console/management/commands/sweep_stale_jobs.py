"""Fail jobs whose worker vanished (the Celery beat schedule runs this every minute too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from console import lifecycle


class Command(BaseCommand):
    help = (
        "Mark FAILED the INPROGRESS jobs with no recent progress, and those whose process on "
        "this host is gone."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stale = lifecycle.sweep_stale_jobs()
        orphaned = lifecycle.fail_jobs_of_dead_workers()
        self.stdout.write(
            f"Failed {stale} stale job(s) and {orphaned} job(s) whose worker process on this host is gone."
        )
