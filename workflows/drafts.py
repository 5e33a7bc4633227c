"""Drafts: the part of a Slack form that Slack cannot hold, kept for the person who opened it.

Slack caps private_metadata and every text input at 3,000 characters. A form that needs more
(the ids typed after /suspend, the text of the message a shortcut was used on) keeps it here
and carries only the draft's id; the submission reads it back, whole.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from store.db import Database
from store.drafts import FormDraft, mark_used, open_draft
from workflows.clock import Clock

DRAFT_TTL = timedelta(hours=24)  # a form left open longer is opened again


class Drafts:
    def __init__(self, db: Database, clock: Clock, ttl: timedelta = DRAFT_TTL) -> None:
        self.db = db
        self.clock = clock
        self.ttl = ttl

    def keep(self, kind: str, owner: str, payload: dict[str, Any]) -> str:
        now = self.clock.now()
        draft_id = secrets.token_hex(16)
        with self.db.transaction() as session:
            session.add(
                FormDraft(
                    id=draft_id,
                    kind=kind,
                    owner=owner,
                    payload=payload,
                    created_at=now,
                    expires_at=now + self.ttl,
                )
            )
        return draft_id

    def read(self, draft_id: str, kind: str, owner: str) -> dict[str, Any] | None:
        """The payload, or None when the draft is not this person's, used or expired."""
        with self.db.read() as session:
            draft = open_draft(session, draft_id, kind, owner, self.clock.now())
            return dict(draft.payload) if draft is not None else None

    def use(self, draft_id: str) -> bool:
        with self.db.transaction() as session:
            return mark_used(session, draft_id, self.clock.now())

    def give_back(self, draft_id: str) -> None:
        with self.db.transaction() as session:
            mark_used(session, draft_id, None)
