from __future__ import annotations

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "AML Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from console.private_files import tighten_sqlite_database

        # A database made before the console's umask (0644) holds password hashes and sessions.
        tighten_sqlite_database(settings.DATABASES["default"])
