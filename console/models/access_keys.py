"""API access keys: an AccessKeyId and its secret, which SigV4 signs with, belonging to a user."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AccessKey(models.Model):
    """One key of a user's. The secret is stored encrypted (console.api.keys), never in clear."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="aml_access_keys"
    )
    access_key_id = models.CharField(max_length=128, unique=True)
    secret_encrypted = models.TextField()
    description = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.access_key_id

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
