"""Create an API access key for a user and print it as one JSON object, for scripts and CI."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.api import keys
from console.services.errors import InvalidInput


class Command(BaseCommand):
    help = (
        'Create an API access key for USERNAME and print {"AccessKeyId": ..., '
        '"SecretAccessKey": ...} (the secret is shown only now).'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="Create the user (with an unusable password: API only) if it does not exist.",
        )
        parser.add_argument("--description", default="", help="Where the key is used.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = _user(options["username"], create=options["create_user"])
        try:
            key, secret = keys.create_access_key(user, options["description"])
        except InvalidInput as refused:
            raise CommandError(f"--description: {refused.message}") from refused
        # stdout carries the JSON object alone, so `... | jq` and json.loads work.
        self.stdout.write(json.dumps({"AccessKeyId": key.access_key_id, "SecretAccessKey": secret}))


def _user(username: str, *, create: bool) -> Any:
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    if user is not None:
        return user
    if not create:
        raise CommandError(
            f"No user named {username!r}. Create it first, or pass --create-user to create it "
            "with an unusable password (it can use the API but not sign in to the console)."
        )
    user = User(**{User.USERNAME_FIELD: username})
    user.set_unusable_password()
    user.save()
    return user
