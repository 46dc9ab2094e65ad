"""Wizard drafts kept in the user's session, shared by the datasource and model wizards.

A draft is keyed by a random token that appears in the wizard's URLs, so one person can fill in
two wizards in two tabs. It records the user it belongs to; anyone else asking for it (or for a
token the session does not hold) gets a 404, exactly like someone else's object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from django.http import Http404, HttpRequest

MAX_DRAFTS_PER_SESSION = 5  # old drafts are dropped so the session stays small


class SessionDraft(Protocol):
    @property
    def token(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


DraftT = TypeVar("DraftT", bound=SessionDraft)


class SessionDrafts(Generic[DraftT]):
    """Load, save and discard one wizard's drafts under `session_key`."""

    def __init__(
        self, session_key: str, kind: str, from_dict: Callable[[dict[str, Any]], DraftT]
    ) -> None:
        self.session_key = session_key
        self.kind = kind
        self.from_dict = from_dict

    def load(self, request: HttpRequest, token: str) -> DraftT:
        data = request.session.get(self.session_key, {}).get(token)
        if data is None or data.get("user_id") != request.user.pk:
            raise Http404(
                f"No such {self.kind} draft: it may have expired. Start the wizard again."
            )
        try:
            return self.from_dict(data)
        except (TypeError, KeyError, ValueError) as exc:  # saved by an older version of the wizard
            raise Http404(
                f"This {self.kind} draft is out of date. Start the wizard again."
            ) from exc

    def save(self, request: HttpRequest, draft: DraftT) -> None:
        drafts = {
            k: v for k, v in request.session.get(self.session_key, {}).items() if k != draft.token
        }
        drafts[draft.token] = draft.to_dict()
        request.session[self.session_key] = dict(list(drafts.items())[-MAX_DRAFTS_PER_SESSION:])

    def discard(self, request: HttpRequest, draft: DraftT) -> None:
        drafts = dict(request.session.get(self.session_key, {}))
        drafts.pop(draft.token, None)
        request.session[self.session_key] = drafts
