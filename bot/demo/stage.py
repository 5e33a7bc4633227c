"""The stage the demo plays on: the real Vigil, between an in-process fake Slack and a fake
enforcement API, on its own database, with an accelerated clock.

The app is built exactly as `vigil serve` builds it (`build_context`, `preflight`,
`build_apps`, `catch_up`) and served by uvicorn on a loopback port; people's messages, clicks
and modal submissions reach it as signed HTTP requests, as Slack sends them. Background work
runs through the same job runner and enforcement executor, drained here after every action
so the week unfolds in a fixed order. The business clock is a `FixedClock` the demo moves;
every job of the scheduler's `SCHEDULE` runs when the moved clock passes its fire time (an
interval job once per move, as APScheduler coalesces missed runs), while leases and call
deadlines keep the wall clock.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
import yaml
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from bot.demo import world
from bot.demo.transcript import Entry, Transcript
from bot.fakes.enforcement import FakeEnforcement
from bot.fakes.slack import BOT_USER, TEAM, Call, FakeSlack
from bot.runtime import build_context
from bot.scheduler import SCHEDULE
from bot.serve import build_apps, catch_up, preflight
from commands.context import AppContext
from store import migrate
from workflows.clock import FixedClock, SystemClock
from workflows.config import Settings, load_config

log = logging.getLogger(__name__)

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"


@dataclass
class Tick:
    name: str
    trigger: BaseTrigger
    run: Callable[[], None]
    last: datetime


class Stage:
    def __init__(self, workdir: Path, db_url: str | None, seed: int) -> None:
        self.workdir = workdir
        self.seed = seed
        self.slack = FakeSlack().start()
        self.platform = FakeEnforcement(token=world.PLATFORM_TOKEN).start()
        for account, profile in world.platform_accounts(seed).items():
            self.platform.add(account, **profile)
        self.db_url = db_url or f"sqlite:///{workdir / 'vigil-demo.db'}"
        migrate.upgrade(self.db_url)
        self.config_path = workdir / "vigil.yaml"
        self.config_path.write_text(yaml.safe_dump(world.config_data(PLAYBOOKS), sort_keys=False))
        self.settings = Settings(
            slack_bot_token=SecretStr(world.BOT_TOKEN),
            slack_signing_secret=SecretStr(world.SIGNING_SECRET),
            slack_api_url=self.slack.api_url,
            slack_files_url=f"{self.slack.base_url}/",
            vigil_database_url=self.db_url,
            vigil_config=self.config_path,
            vigil_enforcement_url=self.platform.url,
            vigil_enforcement_token=SecretStr(world.PLATFORM_TOKEN),
            vigil_signals_token=SecretStr(world.SIGNALS_TOKEN),
            vigil_appeals_token=SecretStr(world.APPEALS_TOKEN),
        )
        self.clock = FixedClock(world.START)
        self.ctx: AppContext
        self.ctx, client = build_context(
            self.settings,
            load_config(self.config_path),
            clock=self.clock,
            lease_clock=SystemClock(),
        )
        preflight(self.ctx, client, socket_mode=False)
        bolt, http = build_apps(self.ctx, client, socket_mode=False)
        # Listeners run after their ack in Bolt's executor: count them, so the demo knows when
        # a click or a command has been fully handled (its Slack calls made).
        self.listeners = _CountingExecutor(bolt.listener_runner.listener_executor)
        bolt.listener_runner.listener_executor = self.listeners
        self.port = _free_port()
        self._server = uvicorn.Server(
            uvicorn.Config(http, host="127.0.0.1", port=self.port, log_config=None, lifespan="off")
        )
        self._thread = threading.Thread(target=self._server.run, name="demo-uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the demo's HTTP server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(timeout=30)
        self.transcript = Transcript(self.slack)
        self.ticks = [
            Tick(name, trigger(self.ctx), job(self.ctx), world.START) for name, trigger, job in SCHEDULE
        ]
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        # As under `vigil serve`, whose worker threads keep them running: the heartbeats that
        # renew the leases of claimed work beat for the whole run (not started per drain).
        self._heartbeats = [self.ctx.jobs.leases, self.ctx.enforcer.executor.leases]
        for keeper in self._heartbeats:
            keeper.start_heartbeat()
        catch_up(self.ctx)  # what `vigil serve` does at start (it also records the first start)
        self.settle()

    # --- time ------------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.clock.now()

    def day(self) -> str:
        return self.now.strftime("%a %d %b %H:%M")

    def advance(self, delta: timedelta, traffic: world.Traffic | None = None) -> None:
        self.advance_to(self.now + delta, traffic)

    def advance_to(self, to: datetime, traffic: world.Traffic | None = None) -> None:
        """Move the clock to ``to``: the platform streams each hour's signals as it ends, and
        each scheduled job runs at its fire times on the way (interval jobs once, at ``to``)."""
        start = self.now
        events: list[tuple[datetime, int, Callable[[], None]]] = []
        streamed = 0
        if traffic is not None:
            hour = start.replace(minute=0, second=0, microsecond=0)
            while hour + timedelta(hours=1) <= to:
                if hour + timedelta(hours=1) > start:
                    rows = traffic.hour(hour)
                    streamed += len(rows)
                    events.append((hour + timedelta(hours=1), -1, lambda rows=rows: self.send_signals(rows)))
                hour += timedelta(hours=1)
        for order, tick in enumerate(self.ticks):
            if isinstance(tick.trigger, IntervalTrigger):
                if to - tick.last >= tick.trigger.interval:
                    events.append((to, order, self._runner(tick, to)))
                continue
            fire = tick.trigger.get_next_fire_time(None, start + timedelta(microseconds=1))
            while fire is not None and fire <= to:
                events.append((fire, order, self._runner(tick, fire)))
                fire = tick.trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        for at, _order, run in sorted(events, key=lambda e: (e[0], e[1])):
            self.clock.set(at)
            run()
            # A tick queues jobs (posts, charts), never enforcement calls: drain the jobs only.
            if self.ctx.jobs.run_until_idle():
                self.transcript.collect(self.day())
        self.clock.set(to)
        if streamed:
            self.transcript.add_note(
                f"the platform streamed {streamed:,} abuse reports to POST /api/v1/signals "
                f"({start:%a %H:%M} to {to:%a %H:%M})",
                self.day(),
            )
        self.settle()

    def _runner(self, tick: Tick, at: datetime) -> Callable[[], None]:
        def run() -> None:
            tick.last = at
            try:
                tick.run()
            except Exception:  # as the scheduler's guard: logged, and the next tick tries again
                log.exception("scheduled job failed", extra={"job": tick.name})

        return run

    # --- background work --------------------------------------------------------------------------
    def settle(self, wait: bool = False) -> None:
        """Let Vigil finish what the last action started, then show it in the transcript.

        ``wait``: a slash command, click or modal submission runs its listener after the ack,
        in Bolt's threads: wait until Slack has heard nothing new for a moment. Events need no
        wait (their job is committed before the ack). Then jobs and enforcement calls run here
        until nothing is due, exactly as the worker threads of `vigil serve` would run them."""
        if wait:
            self._quiet()
        while self.ctx.jobs.run_until_idle() + self.ctx.enforcer.run_until_idle():
            pass
        self.transcript.collect(self.day())

    def _quiet(self) -> None:
        self.listeners.wait_idle(timeout=60)

    # --- the platform --------------------------------------------------------------------------------
    def send_signals(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """POST /api/v1/signals, as the platform's pipeline does (batches under the body limit)."""
        result: dict[str, Any] = {}
        for start in range(0, len(rows), 2000):
            response = self.http.post(
                f"{self.url}/api/v1/signals",
                json={"signals": rows[start : start + 2000]},
                headers={"Authorization": f"Bearer {world.SIGNALS_TOKEN}"},
            )
            if response.status_code != 200:
                raise RuntimeError(f"signals API answered {response.status_code}: {response.text}")
            result = response.json()
        return result

    def send_appeal(self, appeal: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v1/appeals, as the platform does when a user contests a decision."""
        response = self.http.post(
            f"{self.url}/api/v1/appeals",
            json=appeal,
            headers={"Authorization": f"Bearer {world.APPEALS_TOKEN}"},
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"appeals API answered {response.status_code}: {response.text}")
        answer: dict[str, Any] = response.json()
        self.transcript.add_note(
            f"the platform sent appeal {appeal['appeal_id']} to POST /api/v1/appeals: "
            f"{response.status_code} {answer.get('case')}",
            self.day(),
        )
        self.settle()
        return answer

    # --- people ----------------------------------------------------------------------------------------
    def message(
        self,
        who: world.Person | tuple[str, str],
        text: str,
        channel: str = world.ESCALATIONS,
        thread_ts: str | None = None,
    ) -> str:
        """Someone (or an integration bot) posts in a channel; returns the message's ts."""
        ts = f"{int(self.now.timestamp())}.{next(self._ts):06d}"
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "text": text,
            "ts": ts,
            "channel_type": "channel",
        }
        if isinstance(who, world.Person):
            event["user"], author = who.id, who.id
        else:
            event.update(subtype="bot_message", bot_id=who[0], username=who[1])
            author = who[0]
        if thread_ts:
            event["thread_ts"] = thread_ts
        entry = Entry(
            "message",
            author,
            text,
            channel=channel,
            thread=self.transcript.thread_of(channel, thread_ts),
            day=self.day(),
        )
        self.transcript.add(entry, ts=ts)
        self._event(event)
        return ts

    def react(self, who: world.Person, ts: str, reaction: str, channel: str = world.ESCALATIONS) -> None:
        self.transcript.add(
            Entry(
                "reaction",
                who.id,
                f":{reaction}:",
                channel=channel,
                on=self.transcript.thread_of(channel, ts),
                day=self.day(),
            )
        )
        self._event(
            {
                "type": "reaction_added",
                "user": who.id,
                "reaction": reaction,
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": f"{int(self.now.timestamp())}.{next(self._ts):06d}",
            }
        )

    def command(self, who: world.Person, command: str, text: str, channel: str = world.ESCALATIONS) -> None:
        self.transcript.actor, self.transcript.actor_channel = who.id, channel
        self.transcript.add(
            Entry("command", who.id, f"{command} {text}".strip(), channel=channel, day=self.day())
        )
        form = {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "demo",
            "channel_id": channel,
            "channel_name": world.CHANNELS.get(channel, channel),
            "user_id": who.id,
            "user_name": who.name.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0VIGIL01",
            "response_url": self.slack.response_url(f"r{next(self._ids)}"),
            "trigger_id": f"trigger.{next(self._ids)}",
        }
        self._send(urlencode(form), "application/x-www-form-urlencoded")
        self.settle(wait=True)

    def click(
        self, who: world.Person, message: Call | dict[str, Any], action_id: str, channel: str | None = None
    ) -> None:
        """Click the button ``action_id`` on a message Vigil sent (its value as Vigil set it)."""
        button = find_button(message.get("blocks"), action_id)
        channel = channel or str(message.get("channel") or "")
        ts = str((getattr(message, "response", None) or {}).get("ts") or message.get("ts") or "")
        self.transcript.actor, self.transcript.actor_channel = who.id, channel
        self.transcript.add(
            Entry(
                "click",
                who.id,
                f"[ {button['label']} ]",
                channel=channel,
                on=self.transcript.thread_of(channel, ts),
                day=self.day(),
            )
        )
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "demo"},
            "api_app_id": "A0VIGIL01",
            "token": "legacy",
            "user": {"id": who.id, "username": who.name.lower()},
            "channel": {"id": channel},
            "container": {"type": "message", "channel_id": channel, "message_ts": ts},
            "message": {"ts": ts, "text": message.get("text") or ""},
            "trigger_id": f"trigger.{next(self._ids)}",
            "response_url": self.slack.response_url(f"r{next(self._ids)}"),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": button["block_id"],
                    "value": button["value"],
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        self._send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
        self.settle(wait=True)

    def submit(
        self, who: world.Person, view: dict[str, Any], values: dict[str, dict[str, Any]], summary: str
    ) -> httpx.Response:
        """Submit a modal Vigil opened, with these input values."""
        self.transcript.actor, self.transcript.actor_channel = who.id, ""
        self.transcript.add(Entry("submit", who.id, summary, day=self.day()))
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "demo"},
            "api_app_id": "A0VIGIL01",
            "token": "legacy",
            "user": {"id": who.id, "username": who.name.lower()},
            "trigger_id": f"trigger.{next(self._ids)}",
            "view": {
                "id": f"V{next(self._ids):08d}",
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view.get("private_metadata", ""),
                "state": {"values": values},
                "hash": "h",
            },
        }
        response = self._send(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )
        self.settle(wait=True)
        return response

    def _event(self, event: dict[str, Any]) -> None:
        body = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0VIGIL01",
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
        self._send(json.dumps(body), "application/json")
        self.settle()

    def _send(self, body: str, content_type: str) -> httpx.Response:
        stamp = str(int(time.time()))  # Bolt checks the signature's age against the wall clock
        signature = SignatureVerifier(world.SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
        response = self.http.post(
            f"{self.url}/slack/events",
            content=body.encode(),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
            },
        )
        if response.status_code != 200:
            raise RuntimeError(f"Vigil answered {response.status_code}: {response.text[:200]}")
        return response

    # --- reading what Vigil sent -------------------------------------------------------------------------
    def last_call(self, method: str, where: Callable[[Call], bool] | None = None) -> Call:
        found = [c for c in self.slack.calls_of(method) if where is None or where(c)]
        if not found:
            raise RuntimeError(f"Vigil sent no {method} the demo expected")
        return found[-1]

    def stop(self) -> None:
        for keeper in self._heartbeats:
            keeper.stop_heartbeat()
        self.http.close()
        self._server.should_exit = True
        self._thread.join(10)
        self.ctx.jobs.stop()
        self.ctx.enforcer.stop()
        self.ctx.db.dispose()
        self.slack.stop()
        self.platform.stop()


class _CountingExecutor(Executor):
    """Bolt's listener executor, counting the listeners still running."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self._running = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._running += 1
        future = self.inner.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._idle:
            self._running -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0, timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait, cancel_futures=cancel_futures)


def find_button(blocks: Any, action_id: str) -> dict[str, str]:
    """The button ``action_id`` in a message's blocks: its label, value and block id."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks or []:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return {
                    "label": str((element.get("text") or {}).get("text", action_id)),
                    "value": str(element.get("value", "")),
                    "block_id": str(block.get("block_id", "b")),
                }
    raise RuntimeError(f"no {action_id} button on the message the demo clicked")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
