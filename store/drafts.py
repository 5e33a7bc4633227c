"""What a person typed that a Slack form cannot carry (a 350-id /suspend, a long message
for the case shortcut), kept server-side: the form's private_metadata holds only the id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime


class FormDraft(Base):
    __tablename__ = "drafts"

    # A random token, not a counter: a form carries it, and it says nothing about the others.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(32))  # the Slack user who may submit it
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def open_draft(session: Session, draft_id: str, kind: str, owner: str, now: datetime) -> FormDraft | None:
    """The draft if ``owner`` may still submit it: theirs, of this kind, unused and unexpired."""
    draft = session.get(FormDraft, draft_id)
    if draft is None or draft.kind != kind or draft.owner != owner:
        return None
    if draft.used_at is not None or draft.expires_at <= now:
        return None
    return draft


def mark_used(session: Session, draft_id: str, now: datetime | None) -> bool:
    """Use a draft once (a conditional UPDATE, so two submits get one winner); ``now`` None
    gives it back (the submission it was used for failed)."""
    condition = FormDraft.used_at.is_(None) if now is not None else FormDraft.used_at.is_not(None)
    result = session.execute(update(FormDraft).where(FormDraft.id == draft_id, condition).values(used_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]
