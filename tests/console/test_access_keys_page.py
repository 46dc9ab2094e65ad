"""The API keys page: list, create (the secret shown once), revoke; owner, stranger, anonymous."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from console.api import keys
from console.models import AccessKey

pytestmark = pytest.mark.django_db

LIST_URL = reverse("console:access-keys")
CREATE_URL = reverse("console:access-key-create")


def revoke_url(access_key_id: str) -> str:
    return reverse("console:access-key-revoke", args=[access_key_id])


def test_it_needs_a_login(client: Client) -> None:
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_is_linked_from_the_header_next_to_the_user_name(owner_client: Client) -> None:
    page = owner_client.get(reverse("console:dashboard")).content.decode()
    assert f'href="{LIST_URL}"' in page and "API keys" in page


def test_it_lists_only_the_users_own_keys_with_their_status(
    owner_client: Client, owner: Any, stranger: Any
) -> None:
    active, _ = keys.create_access_key(owner, "laptop")
    revoked, _ = keys.create_access_key(owner, "old job")
    keys.revoke_access_key(owner, revoked.access_key_id)
    others, _ = keys.create_access_key(stranger, "mallory's")
    page = owner_client.get(LIST_URL).content.decode()
    assert active.access_key_id in page and "laptop" in page
    assert revoked.access_key_id in page and "Revoked" in page and "Active" in page
    assert others.access_key_id not in page and "mallory" not in page
    assert "Never" in page  # last used


def test_it_shows_no_secret_in_the_list(owner_client: Client, owner: Any) -> None:
    key, secret = keys.create_access_key(owner)
    page = owner_client.get(LIST_URL).content.decode()
    assert key.access_key_id in page
    assert secret not in page and key.secret_encrypted not in page


def test_it_creates_a_key_and_shows_the_secret_once_with_snippets(
    owner_client: Client, owner: Any
) -> None:
    response = owner_client.post(CREATE_URL, {"description": "nightly batch"})
    assert response.status_code == 200
    key = AccessKey.objects.get(user=owner)
    secret = keys.secret_of(key)
    page = response.content.decode()
    assert key.description == "nightly batch"
    assert page.count(secret) >= 3  # the key's table, the CLI snippet, the boto3 snippet
    assert f"aws configure set aws_secret_access_key {secret}" in page
    assert "--endpoint-url http://testserver" in page
    assert 'endpoint_url="http://testserver"' in page
    assert "no-store" in response["Cache-Control"]
    assert secret not in owner_client.get(LIST_URL).content.decode()


def test_its_snippets_use_the_public_url_when_set(owner_client: Client, settings: Any) -> None:
    settings.AML_PUBLIC_BASE_URL = "https://ml.example.org"
    page = owner_client.post(CREATE_URL, {"description": ""}).content.decode()
    assert 'endpoint_url="https://ml.example.org"' in page


def test_it_refuses_a_description_too_long(owner_client: Client, owner: Any) -> None:
    response = owner_client.post(CREATE_URL, {"description": "x" * 300})
    assert response.status_code == 400
    assert "at most 256 characters" in response.content.decode()
    assert not AccessKey.objects.filter(user=owner).exists()


def test_it_creates_only_by_post(owner_client: Client, owner: Any) -> None:
    assert owner_client.get(CREATE_URL).status_code == 405
    assert not AccessKey.objects.filter(user=owner).exists()


def test_it_revokes_a_key_after_which_it_cannot_sign(owner_client: Client, owner: Any) -> None:
    key, _ = keys.create_access_key(owner)
    response = owner_client.post(revoke_url(key.access_key_id), follow=True)
    assert response.status_code == 200
    assert f"Access key {key.access_key_id} was revoked" in response.content.decode()
    assert AccessKey.objects.get(pk=key.pk).revoked_at is not None
    assert keys.active_key(key.access_key_id) is None


def test_it_asks_for_confirmation_before_revoking(owner_client: Client, owner: Any) -> None:
    key, _ = keys.create_access_key(owner)
    page = owner_client.get(LIST_URL).content.decode()
    assert f'data-confirm="Revoke access key {key.access_key_id}?' in page


def test_it_answers_404_for_another_users_key(stranger_client: Client, owner: Any) -> None:
    key, _ = keys.create_access_key(owner)
    assert stranger_client.post(revoke_url(key.access_key_id)).status_code == 404
    assert stranger_client.post(revoke_url("AKIANOSUCHKEYATALL22")).status_code == 404
    assert keys.active_key(key.access_key_id) == key


def test_it_enforces_csrf_on_create_and_revoke(owner: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    key, _ = keys.create_access_key(owner)
    assert client.post(CREATE_URL, {"description": "forged"}).status_code == 403
    assert client.post(revoke_url(key.access_key_id)).status_code == 403
    assert AccessKey.objects.filter(user=owner).count() == 1
    assert keys.active_key(key.access_key_id) == key
    page = client.get(LIST_URL)
    token = page.cookies["csrftoken"].value
    response = client.post(CREATE_URL, {"description": "real", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert AccessKey.objects.filter(user=owner, description="real").exists()
