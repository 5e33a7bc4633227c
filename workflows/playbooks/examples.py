"""The examples written next to each rule (`vigil rules test`): does the rule say what its
author expects on each of them?"""

from __future__ import annotations

from dataclasses import dataclass

import cel

from workflows.playbooks.context import with_defaults
from workflows.playbooks.loader import RuleSet


@dataclass(frozen=True)
class ExampleResult:
    rule_id: str
    example: str
    expected: str
    got: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.expected == self.got


def run_examples(rules: RuleSet, rule_id: str | None = None) -> list[ExampleResult]:
    results = []
    for compiled in rules.rules:
        if rule_id and compiled.id != rule_id:
            continue
        for example in compiled.rule.examples:
            context = cel.Context()
            context.update(with_defaults(compiled.rule.trigger, example.context))
            try:
                got = "match" if compiled.program.execute(context) is True else "no match"
                results.append(ExampleResult(compiled.id, example.name, example.expect, got))
            except Exception as exc:
                results.append(
                    ExampleResult(
                        compiled.id, example.name, example.expect, "error", str(exc).splitlines()[0]
                    )
                )
    return results
