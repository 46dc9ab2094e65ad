"""API access keys: create, revoke and look up a user's SigV4 keys.

A key's secret is needed in clear to verify a signature (SigV4 is an HMAC, not a password hash), so
it is stored encrypted with Fernet rather than hashed. The Fernet key is derived with HKDF from the
setting AML_ACCESS_KEY_ENCRYPTION_KEY when it is set, else from Django's SECRET_KEY (and its
SECRET_KEY_FALLBACKS, so rotating SECRET_KEY leaves existing keys readable). Nothing here logs a
secret; the only place a secret leaves this module in clear is the return value of
`create_access_key` (shown once) and `secret_of` (for the signature check).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from console.models import AccessKey
from console.services.errors import InvalidInput, ResourceNotFound

ACCESS_KEY_PREFIX = "AKIA"
ACCESS_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # base 32, as AWS's ids
ACCESS_KEY_ID_SUFFIX_LENGTH = 16
SECRET_BYTES = 30  # 30 bytes are 40 base-64 characters, the length of an AWS secret
# A busy client signs many requests a second; one write a minute is enough to say "last used".
LAST_USED_RESOLUTION = timedelta(minutes=1)
_HKDF_INFO = b"aml-console access key secrets v1"
_HKDF_SALT = b"aml-console"


class UndecryptableSecret(Exception):
    """A stored secret the current encryption keys cannot open (the key setting changed)."""


DESCRIPTION_MAX_LENGTH = AccessKey._meta.get_field("description").max_length


def create_access_key(user: AbstractBaseUser, description: str = "") -> tuple[AccessKey, str]:
    """A new active key of `user`; returns it with its secret, which is never retrievable again
    from the console. Raises InvalidInput for a description no key can keep."""
    description = _checked_description(description)
    secret = _new_secret()
    key = AccessKey.objects.create(
        user=user,
        access_key_id=_new_access_key_id(),
        secret_encrypted=_encrypt(secret),
        description=description,
    )
    return key, secret


def _checked_description(description: str) -> str:
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(f"A description has at most {DESCRIPTION_MAX_LENGTH} characters.")
    if "\x00" in description:  # no database keeps it (PostgreSQL refuses NUL in text)
        raise InvalidInput("A description cannot contain the NUL character (\\x00).")
    return description


def revoke_access_key(user: AbstractBaseUser, access_key_id: str) -> AccessKey:
    """Revoke one of `user`'s keys (revoking twice keeps the first time). Another user's key id is
    not found, exactly as an id that does not exist."""
    key = (
        AccessKey.objects.filter(user=user, access_key_id=access_key_id).first()
        if _possible_key_id(access_key_id)
        else None
    )
    if key is None:
        raise ResourceNotFound(f"No access key {access_key_id[:80]} exists.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def keys_of(user: AbstractBaseUser) -> list[AccessKey]:
    """All of `user`'s keys, newest first, revoked ones included."""
    return list(AccessKey.objects.filter(user=user).order_by("-created_at", "-pk"))


def active_key(access_key_id: str) -> AccessKey | None:
    """The key with this id if it is active and its user may still sign in, else None."""
    if not _possible_key_id(access_key_id):
        return None
    key = (
        AccessKey.objects.select_related("user")
        .filter(access_key_id=access_key_id, revoked_at__isnull=True)
        .first()
    )
    if key is None or not key.user.is_active:
        return None
    return key


def secret_of(key: AccessKey) -> str:
    """The key's secret in clear, for recomputing a signature. Never log or display it."""
    try:
        return _fernet().decrypt(key.secret_encrypted.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise UndecryptableSecret(
            f"The secret of access key {key.access_key_id} cannot be decrypted: "
            "AML_ACCESS_KEY_ENCRYPTION_KEY or SECRET_KEY changed since it was created."
        ) from None


def record_use(key: AccessKey, now: datetime) -> None:
    """Note that `key` signed a request, writing at most once per LAST_USED_RESOLUTION."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    # Conditional, so concurrent requests of the same key write once between them.
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
    AccessKey.objects.filter(pk=key.pk).filter(stale).update(last_used_at=now)
    key.last_used_at = now


def _possible_key_id(access_key_id: str) -> bool:
    """Whether a key could have this id: anything else (a NUL character, which PostgreSQL would
    refuse even to look up) is not asked of the database."""
    return bool(re.fullmatch(r"[A-Z0-9]{1,128}", access_key_id))


def _new_access_key_id() -> str:
    while True:
        suffix = "".join(
            secrets.choice(ACCESS_KEY_ID_ALPHABET) for _ in range(ACCESS_KEY_ID_SUFFIX_LENGTH)
        )
        candidate = ACCESS_KEY_PREFIX + suffix
        if not AccessKey.objects.filter(access_key_id=candidate).exists():
            return candidate


def _new_secret() -> str:
    return base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def _fernet() -> MultiFernet:
    """Encrypts with the first key; decrypts with any (the fallbacks of SECRET_KEY)."""
    return _fernet_for(tuple(_key_materials()))


def _key_materials() -> list[str]:
    override = getattr(settings, "AML_ACCESS_KEY_ENCRYPTION_KEY", None)
    if override is None:  # not in settings.py: read the environment as settings.py would
        override = os.environ.get("AML_ACCESS_KEY_ENCRYPTION_KEY", "")
    if override:
        return [override]
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


@cache
def _fernet_for(materials: tuple[str, ...]) -> MultiFernet:
    # Cached by the materials themselves, so a changed setting (tests, rotation) takes effect.
    return MultiFernet([Fernet(_derive_fernet_key(material)) for material in materials])


def _derive_fernet_key(material: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        material.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)
