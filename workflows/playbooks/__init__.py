"""Playbooks: versioned YAML rules with CEL conditions that standardise decisions.

A rule has a trigger, a CEL condition over a documented context (docs/playbooks.md),
actions, and a mode: ``live`` acts, ``shadow`` only records what it would have done,
``off`` is loaded but never evaluated. Every match writes a rule_hits row. Playbooks
never suspend anyone: enforcement always goes through a human request and approval.

The rooms: ``loader`` (file format, compile, PlaybookError), ``context`` (what a condition
sees, per trigger), ``features`` (the ``account.*`` counts), ``evaluate`` (matching,
guardrails, rule_hits), ``reload`` (the live registry), ``runners`` (rules at work for
cases, requests, reports, signals and anomalies), ``jobs`` (the posts and investigations
actions queue), ``backtest``, ``examples`` and ``views`` (what `/vigil rules` shows).
Queries live in store/playbooks.py.

What adapters and other concepts import is re-exported here.
"""

from workflows.playbooks.backtest import CaseOutcomeLabels, LabelSource, RuleBacktest, backtest, parse_since
from workflows.playbooks.context import SCHEMA, Trigger, case_context, with_defaults
from workflows.playbooks.evaluate import Evaluation, Match, evaluate, record_hits, render_notification
from workflows.playbooks.examples import ExampleResult, run_examples
from workflows.playbooks.features import AccountFeatures, FeatureSource
from workflows.playbooks.jobs import JOB_OPEN_INVESTIGATION, JOB_POST, register_jobs
from workflows.playbooks.loader import (
    Action,
    CompiledRule,
    PlaybookError,
    PlaybookFile,
    Rule,
    RuleSet,
    field_paths,
    load_rules,
)
from workflows.playbooks.ports import InvestigationOpener, ReloadListener, ReportLinker
from workflows.playbooks.reload import Playbooks
from workflows.playbooks.runners import (
    PlaybookCaseRules,
    PlaybookRequestRules,
    PlaybookRuleMatches,
    PlaybookSignalRules,
    RuleRunner,
)
from workflows.playbooks.views import RulesOverview, rules_overview

__all__ = [
    "JOB_OPEN_INVESTIGATION",
    "JOB_POST",
    "SCHEMA",
    "AccountFeatures",
    "Action",
    "CaseOutcomeLabels",
    "CompiledRule",
    "Evaluation",
    "ExampleResult",
    "FeatureSource",
    "InvestigationOpener",
    "LabelSource",
    "Match",
    "PlaybookCaseRules",
    "PlaybookError",
    "PlaybookFile",
    "PlaybookRequestRules",
    "PlaybookRuleMatches",
    "PlaybookSignalRules",
    "Playbooks",
    "ReloadListener",
    "ReportLinker",
    "Rule",
    "RuleBacktest",
    "RuleRunner",
    "RuleSet",
    "RulesOverview",
    "Trigger",
    "backtest",
    "case_context",
    "evaluate",
    "field_paths",
    "load_rules",
    "parse_since",
    "record_hits",
    "register_jobs",
    "render_notification",
    "rules_overview",
    "run_examples",
    "with_defaults",
]
