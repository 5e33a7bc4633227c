"""The Vigil under test and how tests talk to it: a running app between the fake Slack and
the fake enforcement API, driven by signed requests."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.fakes.slack import FakeSlack
from commands.context import AppContext
from store.db import Database
from tests.harness.server import ServerThread
from tests.harness.slack_sender import SlackSender
from tests.harness.world import ESCALATIONS, OUTSIDER
from workflows.clock import FixedClock
from workflows.enforcement import EnforcerOptions

# Tests never wait for real backoff: the clock is a FixedClock that tests move, so only the
# per-call timeout and the worker's polling are real time, and both are short here.
TEST_ENFORCER = EnforcerOptions(call_timeout=5.0, poll_seconds=0.05, flush_every=0.05, progress_every=0.0)


@dataclass
class Vigil:
    """The app under test, and the people around it."""

    ctx: AppContext
    slack: FakeSlack
    send: SlackSender
    server: ServerThread
    lease_clock: FixedClock
    stopped: bool = field(default=False)

    @property
    def db(self) -> Database:
        return self.ctx.db

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.ctx.clock, FixedClock)
        return self.ctx.clock

    def run_jobs(self) -> int:
        return self.ctx.jobs.run_until_idle()

    def enforce(self) -> int:
        """Let the enforcement worker run until nothing is due; returns API calls made."""
        return self.ctx.enforcer.run_until_idle()

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.ctx.jobs.stop()
        self.ctx.enforcer.stop()
        self.send.close()
        self.server.stop()

    def post(self, text: str, *, user: str = OUTSIDER, channel: str = ESCALATIONS, **extra: Any) -> str:
        """Someone posts a message in a channel; returns its ts."""
        ts = f"1764{next(_message_ts):06d}.000100"
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "channel_type": "channel",
            **extra,
        }
        assert self.send.event(event).status_code == 200
        return ts

    def react(
        self, ts: str, reaction: str, *, user: str, channel: str = ESCALATIONS, removed: bool = False
    ) -> None:
        event = {
            "type": "reaction_removed" if removed else "reaction_added",
            "user": user,
            "reaction": reaction,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": "1764000000.1",
        }
        assert self.send.event(event).status_code == 200


VigilFactory = Callable[..., Vigil]

_message_ts = itertools.count(1)


def eventually(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02) -> Any:
    """Wait until ``check()`` returns something truthy (Slack listeners run after the ack)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check}")
        time.sleep(interval)
