"""Fail jobs whose worker vanished (the Celery beat schedule runs this every minute too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from console import lifecycle


class Command(BaseCommand):
    help = "Mark INPROGRESS jobs with no recent progress as FAILED."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Failed {lifecycle.sweep_stale_jobs()} stale job(s).")
