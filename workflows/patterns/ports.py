"""What the patterns capability needs from outside: a labeller (top terms offline; an LLM can
stand in later through the same Protocol) and somewhere to post a pattern's alert."""

from __future__ import annotations

from typing import Protocol

from workflows.patterns.detect import Cluster
from workflows.patterns.views import PatternView


class PatternLabeler(Protocol):
    def label(self, cluster: Cluster) -> str:
        """A short human label for a group (at most 200 characters)."""
        ...


class TopTermsLabeler:
    """Offline: the words most of the group's texts share, or the value the group shares."""

    def label(self, cluster: Cluster) -> str:
        if cluster.kind == "domain":
            return f"links to {cluster.terms[0]}"
        if cluster.kind == "fingerprint":
            key, value = cluster.terms[0], cluster.terms[1]
            return f"{key} {value} shared by {len(cluster.accounts)} accounts"
        if not cluster.terms:
            return f"{cluster.kind} of {len(cluster.items)} texts"
        return " · ".join(cluster.terms)[:200]


class PatternNotifier(Protocol):
    def post_alert(self, pattern: PatternView, channel: str) -> str:
        """Posts the alert with its buttons; returns the message ts."""
        ...

    def update_alert(self, pattern: PatternView) -> None: ...
