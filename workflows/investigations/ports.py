"""What an investigation needs from outside: the platform's account profile, the enforcement
ledger and the playbook rule hits of the account (filled in by those capabilities; the
"none" defaults know nothing), and somewhere to post the investigation."""

from __future__ import annotations

from typing import Protocol

from workflows.investigations.views import (
    Dossier,
    EnforcementRecord,
    InvestigationView,
    Profile,
    RuleMatch,
)


class AccountProfiles(Protocol):
    """The platform's profile of an account (``GET /accounts/{id}``). Never raises: an
    investigation with an unreachable profile is still an investigation."""

    def profile(self, account_id: str) -> Profile: ...


class NoProfiles:
    def profile(self, account_id: str) -> Profile:
        return Profile("not_configured", detail="VIGIL_ENFORCEMENT_URL is not set")


class EnforcementHistory(Protocol):
    """Filled in by the enforcement capability (requests and actions on this account)."""

    def for_account(self, account_id: str) -> list[EnforcementRecord]: ...


class NoEnforcementHistory:
    def for_account(self, account_id: str) -> list[EnforcementRecord]:
        return []


class RuleMatches(Protocol):
    """Filled in by the playbooks capability (rule hits on this account)."""

    def for_account(self, account_id: str) -> list[RuleMatch]: ...


class NoRuleMatches:
    def for_account(self, account_id: str) -> list[RuleMatch]:
        return []


class InvestigationNotifier(Protocol):
    def post_investigation(self, investigation: InvestigationView, dossier: Dossier) -> tuple[str, str]:
        """Posts the investigation; returns (channel, ts) of where it landed."""
        ...

    def update_investigation(self, investigation: InvestigationView, dossier: Dossier) -> None: ...

    def post_outcome(self, investigation: InvestigationView) -> None:
        """Says in the investigation's thread who closed it, how, and their findings."""
        ...
