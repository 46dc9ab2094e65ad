"""Every URL pattern of the console (walked from Django's resolver, filled with a real user's ids):
anonymous requests are sent to a login page and never get content; every form refuses a POST
without its CSRF token (403) and accepts one with it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import resolve
from reliability_figures import record
from security_world import World, probe_urls

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
# The pages a visitor must reach before signing in: the console's and the admin site's sign-in.
PUBLIC_BY_DESIGN = {"login", "admin:login"}


def is_public(path: str) -> bool:
    return getattr(resolve(path).func, "login_required", True) is False


def test_every_page_sends_an_anonymous_visitor_to_sign_in_and_shows_nothing(world: World) -> None:
    probes = probe_urls(world)
    visitor, shown, public = Client(), [], set()
    for probe in probes:
        if is_public(probe.path):
            public.add(probe.name)
        for method in ("get", "post"):
            response = getattr(visitor, method)(probe.path)
            problem = _anonymous_problem(probe, response, world)
            if problem:
                shown.append(f"{method.upper()} {probe.path} ({probe.name}): {problem}")
    record(
        "Security",
        "login required",
        tried=2 * len(probes),
        bad=len(shown),
        bad_means="pages that answered an anonymous visitor with content",
        note=f"{len(public)} sign-in pages are public by design",
    )
    assert shown == [], "\n".join(shown)
    assert public <= PUBLIC_BY_DESIGN


def _anonymous_problem(probe: Any, response: Any, world: World) -> str:
    body = response.content.decode("utf-8", "replace") if not response.streaming else ""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if any(marker in body for marker in world.markers()):
        return "shows the owner's data"
    if is_public(probe.path):
        return ""
    if response.status_code == 302 and response["Location"].startswith(LOGIN_PAGES):
        return ""
    return f"HTTP {response.status_code} instead of a redirect to sign in"


def test_every_form_refuses_a_post_without_its_csrf_token_and_accepts_one_with_it(
    world: World,
) -> None:
    probes = probe_urls(world)
    browser = Client(enforce_csrf_checks=True)
    refused_without, wrong = 0, []
    for probe in probes:
        browser.force_login(world.user)
        without = browser.post(probe.path)
        if without.status_code == 403:
            refused_without += 1
        else:
            wrong.append(f"{probe.path} ({probe.name}): {without.status_code} without a token")
    for probe in probes:
        browser.force_login(world.user)  # a logout probe signs her out
        token = _csrf_token(browser)
        with_token = browser.post(probe.path, headers={"X-CSRFToken": token})
        if with_token.status_code in (403, 500):
            wrong.append(f"{probe.path} ({probe.name}): {with_token.status_code} with its token")
    record(
        "Security",
        "CSRF on every form",
        tried=2 * len(probes),
        bad=len(wrong),
        bad_means="POSTs accepted without a token, or refused with it",
    )
    assert wrong == [], "\n".join(wrong)
    assert refused_without == len(probes)


def _csrf_token(browser: Client) -> str:
    browser.get("/")  # the dashboard's forms set the cookie
    return browser.cookies["csrftoken"].value


@pytest.mark.parametrize("path", ["/accounts/password_reset/", "/accounts/reset/MQ/set-password/"])
def test_there_is_no_password_reset_by_email_to_fail_without_a_mail_server(
    client: Client, path: str
) -> None:
    assert client.post(path, {"email": "alice@example.com"}).status_code == 404
