"""Create the first user when there is none, and print how to sign in."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an administrator if no user exists yet, printing its credentials once."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write(
                "Users exist already; sign in with yours (or: python manage.py createsuperuser)."
            )
            return
        username = os.environ.get("AML_ADMIN_USER", "admin")
        password = os.environ.get("AML_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                "\n  First user created. Sign in at http://127.0.0.1:8000/ with\n"
                f"    username: {username}\n    password: {password}\n"
                "  (shown only now; change it at /accounts/password_change/ once signed in)\n"
            )
        )
