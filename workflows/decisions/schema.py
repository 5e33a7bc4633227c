"""A statement of reasons in the DSA Transparency Database's own fields, checked with the
database's own rules (lengths, allowed values, conditional fields) so that a statement Vigil
accepts is never refused at submission for its shape.

Field names and enumerations are the database's API (transparency.dsa.ec.europa.eu,
"API documentation"); docs/dsa.md lists what Vigil fills in and from where.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from workflows.config import EEA

DecisionGround = Literal["DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"]
CATEGORIES = (
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
)
Category = Literal[CATEGORIES]  # type: ignore[valid-type]
ContentType = Literal[
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
]
Visibility = Literal[
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
]
Monetary = Literal["DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"]
Provision = Literal[
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
]
AccountDecision = Literal["DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"]
SourceType = Literal[
    "SOURCE_ARTICLE_16", "SOURCE_TRUSTED_NOTIFIER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"
]
AutomatedDecision = Literal[
    "AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"
]
YesNo = Literal["Yes", "No"]
# The member states of the EEA, the territorial scope's allowed values.
Country = Literal[tuple(EEA)]  # type: ignore[valid-type]
PUID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
EARLIEST = date(2000, 1, 1)

Text500 = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Text2000 = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Statement(BaseModel):
    """One statement of reasons, as the database's ``POST /api/v1/statement`` takes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision_visibility: list[Visibility] | None = None
    decision_visibility_other: Text500 | None = None
    decision_monetary: Monetary | None = None
    decision_monetary_other: Text500 | None = None
    decision_provision: Provision | None = None
    decision_account: AccountDecision | None = None
    end_date_account_restriction: date | None = None
    decision_ground: DecisionGround
    decision_ground_reference_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    illegal_content_legal_ground: Text500 | None = None
    illegal_content_explanation: Text2000 | None = None
    incompatible_content_ground: Text500 | None = None
    incompatible_content_explanation: Text2000 | None = None
    category: Category
    content_type: list[ContentType] = Field(min_length=1)
    content_type_other: Text500 | None = None
    content_date: date
    application_date: date
    decision_facts: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    source_type: SourceType
    automated_detection: YesNo
    automated_decision: AutomatedDecision
    territorial_scope: list[Country] = Field(min_length=1)
    puid: Annotated[str, StringConstraints(pattern=PUID.pattern)]

    @model_validator(mode="after")
    def _conditional(self) -> Statement:
        """The database's conditional rules; each message names its field first."""
        problems: list[str] = []
        if not (
            self.decision_visibility
            or self.decision_monetary
            or self.decision_provision
            or self.decision_account
        ):
            problems.append(
                "decision_visibility: one of decision_visibility, decision_monetary, "
                "decision_provision or decision_account is required"
            )
        if self.decision_ground == "DECISION_GROUND_ILLEGAL_CONTENT":
            for name in ("illegal_content_legal_ground", "illegal_content_explanation"):
                if getattr(self, name) is None:
                    problems.append(f"{name}: required when decision_ground is illegal content")
        else:
            for name in ("incompatible_content_ground", "incompatible_content_explanation"):
                if getattr(self, name) is None:
                    problems.append(f"{name}: required when decision_ground is incompatible content")
        pairs = (
            (
                "decision_visibility_other",
                self.decision_visibility and "DECISION_VISIBILITY_OTHER" in self.decision_visibility,
            ),
            ("decision_monetary_other", self.decision_monetary == "DECISION_MONETARY_OTHER"),
            ("content_type_other", "CONTENT_TYPE_OTHER" in self.content_type),
        )
        for name, chosen in pairs:
            if chosen and getattr(self, name) is None:
                problems.append(f"{name}: required when the *_OTHER choice is made")
        if self.end_date_account_restriction is not None and self.decision_account is None:
            problems.append("end_date_account_restriction: only with decision_account")
        if self.content_date < EARLIEST:
            problems.append("content_date: on or after 2000-01-01")
        if self.application_date < self.content_date:
            problems.append("application_date: on or after content_date")
        if (
            self.end_date_account_restriction is not None
            and self.end_date_account_restriction < self.application_date
        ):
            problems.append("end_date_account_restriction: on or after application_date")
        if len(set(self.territorial_scope)) != len(self.territorial_scope):
            problems.append("territorial_scope: each country once")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def body(self) -> dict[str, object]:
        """The JSON the database takes: dates as YYYY-MM-DD, unset fields left out."""
        return self.model_dump(mode="json", exclude_none=True)
