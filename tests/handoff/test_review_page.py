"""The weekly review is published to Confluence (a fake over real HTTP) as one page per week,
updated in place when re-run, and the digest links to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import SecretStr

from bot.cli import main
from bot.fakes.confluence import FakeConfluence
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.world import ANALYST, config_data
from workflows.periods import parse_period


@pytest.fixture
def confluence() -> Iterator[FakeConfluence]:
    fake = FakeConfluence().start()
    yield fake
    fake.stop()


def settings_for(confluence: FakeConfluence) -> dict:
    return {
        "vigil_confluence_url": confluence.url,
        "vigil_jira_email": confluence.email,
        "vigil_jira_token": SecretStr(confluence.token),
    }


def test_the_weekly_review_page_is_written_once_per_week_and_linked(
    make_vigil: VigilFactory, confluence: FakeConfluence
) -> None:
    vigil = make_vigil(settings_update=settings_for(confluence))
    assert vigil.ctx.review_pages is not None
    week = parse_period("2026-W47", vigil.clock.now(), vigil.ctx.config.tz)
    first = vigil.ctx.review_pages.publish(week)
    again = vigil.ctx.review_pages.publish(week)
    (page,) = confluence.pages.values()
    assert (page.space, page.title, page.version) == ("TNS", "Vigil weekly review 2026-W47", 2)
    assert (first.id, first.version, again.id, again.version) == (page.id, 1, page.id, 2)
    assert "<h2>Abuse trends</h2>" in page.body and "<h2>Investigation review</h2>" in page.body
    # The digest's charts are attached, and re-uploaded (a new version) on the re-run.
    assert page.attachments == {"daily-volume.png": 2, "sla-trend.png": 2}
    assert '<ri:attachment ri:filename="daily-volume.png" />' in page.body

    vigil.send.command("/vigil", "digest preview 2026-W47", user=ANALYST)
    shown = json.dumps(vigil.slack.wait_for("response_url")[0].args["blocks"], ensure_ascii=False)
    assert f"<{again.url}|This week's review in Confluence>" in shown


def test_vigil_review_publish(
    vigil: Vigil, confluence: FakeConfluence, tmp_path: Path, monkeypatch, fake_slack
) -> None:
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    unset = CliRunner().invoke(main, ["review", "publish", "--week", "2026-W47"])
    assert unset.exit_code == 2 and "set VIGIL_CONFLUENCE_URL" in unset.output
    monkeypatch.setenv("VIGIL_CONFLUENCE_URL", confluence.url)
    monkeypatch.setenv("VIGIL_JIRA_EMAIL", confluence.email)
    monkeypatch.setenv("VIGIL_JIRA_TOKEN", confluence.token)
    done = CliRunner().invoke(main, ["review", "publish", "--week", "2026-W47"])
    assert done.exit_code == 0, done.output
    assert (
        "2026-W47: " in done.output and "(version 1)" in done.output and confluence.token not in done.output
    )
    bad = CliRunner().invoke(main, ["review", "publish", "--week", "2026-11"])
    assert bad.exit_code == 2
