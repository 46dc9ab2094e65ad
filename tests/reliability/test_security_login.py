"""Sign-in attempts are limited (django-axes): 5 wrong passwords for one username from one address
lock that pair for 15 minutes, with a message on the sign-in page; the right password is refused
while locked and accepted once the cool-off has passed. The API's access keys are not affected."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone
from reliability_figures import record
from security_world import ml_client

from console.api.keys import create_access_key

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

LOGIN = "/accounts/login/"
PASSWORD = "correct horse 1"  # tests/conftest.py's owner
LOCKED = "Too many failed sign-ins"


def sign_in(browser: Client, password: str, username: str = "alice") -> Any:
    return browser.post(LOGIN, {"username": username, "password": password})


def signed_in(browser: Client) -> bool:
    return browser.get("/").status_code == 200


def test_the_sixth_attempt_is_refused_even_with_the_right_password_until_the_cool_off_passes(
    owner: Any,
) -> None:
    browser = Client(REMOTE_ADDR="203.0.113.7")
    failures = [sign_in(browser, f"wrong {n}") for n in range(settings.AXES_FAILURE_LIMIT)]
    locked = sign_in(browser, PASSWORD)
    locked_page = locked.content.decode()

    assert all(r.status_code == 200 and LOCKED not in r.content.decode() for r in failures[:-1])
    assert locked.status_code == 429 and LOCKED in locked_page and "15 minutes" in locked_page
    assert '<form method="post"' in locked_page  # the sign-in page itself, with the message
    assert not signed_in(browser)

    # The cool-off passes: axes compares the attempts' time with AXES_COOLOFF_TIME.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    after = sign_in(browser, PASSWORD)

    assert after.status_code == 302 and signed_in(browser)
    record(
        "Security",
        "sign-in rate limit",
        tried=len(failures) + 2,
        bad=int(locked.status_code != 429) + int(after.status_code != 302),
        bad_means="sign-ins let through while locked, or refused after the cool-off",
        note="5 failures per username and address lock it for 15 minutes",
    )


def test_a_lock_holds_only_that_username_from_that_address(owner: Any, stranger: Any) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, f"wrong {n}")

    other_user = sign_in(attacker, "correct horse 2", username="mallory")
    elsewhere = sign_in(Client(REMOTE_ADDR="198.51.100.2"), PASSWORD)

    assert sign_in(attacker, PASSWORD).status_code == 429
    assert other_user.status_code == 302 and elsewhere.status_code == 302


def test_a_locked_users_access_key_and_an_existing_session_still_work(owner: Any) -> None:
    key, secret = create_access_key(owner)
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        sign_in(attacker, f"wrong {n}")
    session = Client()
    session.force_login(owner)

    listed = ml_client(key.access_key_id, secret).describe_ml_models()

    assert sign_in(attacker, PASSWORD).status_code == 429
    assert listed["Results"] == [] and signed_in(session)


PROXY = "10.0.0.2"  # every request reaches the console from its proxy


def from_behind_the_proxy(client_address: str, claimed: str = "") -> Client:
    chain = f"{claimed}, {client_address}" if claimed else client_address
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=chain)


def test_behind_a_proxy_the_lock_holds_the_client_the_proxy_names_not_every_client(
    owner: Any, settings: Any
) -> None:
    settings.AML_BEHIND_PROXY = True
    attacker = from_behind_the_proxy("203.0.113.7")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, f"wrong {n}")

    neighbour = sign_in(from_behind_the_proxy("198.51.100.2"), PASSWORD)
    # an address the attacker writes first in the header is not the one its proxy added
    disguised = sign_in(from_behind_the_proxy("203.0.113.7", claimed="192.0.2.99"), PASSWORD)

    assert neighbour.status_code == 302
    assert disguised.status_code == 429


def test_without_a_proxy_a_forwarded_for_header_is_ignored(owner: Any, settings: Any) -> None:
    settings.AML_BEHIND_PROXY = False
    attacker = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="192.0.2.1")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, f"wrong {n}")

    changed_header = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="192.0.2.2")

    assert sign_in(changed_header, PASSWORD).status_code == 429
