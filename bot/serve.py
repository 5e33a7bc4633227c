"""`vigil serve`: HTTP (uvicorn) or Socket Mode, with the job worker and the scheduler."""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

import uvicorn
from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from starlette.types import ASGIApp

from bot.app import create_bolt_app
from bot.http import create_http_app
from bot.scheduler import build_scheduler
from bot.slack_client import check_token
from commands.context import AppContext
from workflows.config import Settings, secret

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Vigil cannot start; the message says what to do."""


def check_environment(settings: Settings, socket_mode: bool) -> None:
    """Before anything is built: which variables are missing, and where to get them."""
    missing = settings.missing_for_serve(socket_mode)
    if missing:
        raise StartupError(
            "missing environment: " + ", ".join(missing) + ".\n"
            "Create the Slack app from manifest.yml (api.slack.com/apps → Create New App → "
            "From an app manifest), install it to your workspace, then export:\n"
            "  SLACK_BOT_TOKEN      OAuth & Permissions → Bot User OAuth Token (xoxb-…)\n"
            + (
                "  SLACK_APP_TOKEN      Basic Information → App-Level Tokens, connections:write (xapp-…)\n"
                if socket_mode
                else "  SLACK_SIGNING_SECRET Basic Information → App Credentials → Signing Secret\n"
            )
        )


def preflight(ctx: AppContext, client: WebClient, socket_mode: bool) -> None:
    check_environment(ctx.settings, socket_mode)
    try:
        status = ctx.db.schema_status()
    except Exception as exc:
        raise StartupError(f"database unreachable at {ctx.db.engine.url!r}: {exc}") from exc
    if not status.up_to_date:
        at = status.current or "an empty database"
        raise StartupError(
            f"database schema is behind (at {at}, this Vigil needs {status.head}): run `vigil db upgrade`"
        )
    # Bolt calls auth.test as it is built and raises (a traceback) on a bad token or URL:
    # ask first, so the operator reads one line saying which and what to check.
    token = check_token(client, ctx.settings.slack_api_url)
    if not token.ok:
        raise StartupError(token.problem)


def catch_up(ctx: AppContext) -> None:
    """Digests whose scheduled time passed while Vigil was down: the latest period of each is
    posted now, once (the digest_runs guard), older ones stay missed."""
    try:
        ctx.reports.catch_up()
    except Exception:
        log.exception("digest catch-up failed; the retry tick tries again in 5 minutes")


def build_apps(ctx: AppContext, client: WebClient, socket_mode: bool) -> tuple[App, ASGIApp]:
    """The Bolt app and the HTTP app that `vigil serve` runs. In Socket Mode Slack talks over
    the websocket only: the HTTP app serves /healthz, /metrics and the APIs, never /slack/events."""
    bolt = create_bolt_app(ctx, client)
    return bolt, create_http_app(ctx, None if socket_mode else bolt)


class _Server(uvicorn.Server):
    """uvicorn's server, telling the background workers the moment SIGTERM (or SIGINT) comes."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)


def _on_sigterm(ctx: AppContext) -> tuple[threading.Event, Callable[[], None]]:
    """SIGTERM gives back, at once, the leases of work not started yet (any replica takes it
    now, not after the lease); calls in flight keep their heartbeat until they end or their
    deadline passes, and are recorded before the process exits. uvicorn re-raises the signal
    once it has stopped serving: this handler is what it finds, so the process stops cleanly."""
    stopping = threading.Event()

    def stop() -> None:  # sets flags only: the workers' own threads release and record
        stopping.set()
        ctx.enforcer.request_stop()
        ctx.jobs.request_stop()

    signal.signal(signal.SIGTERM, lambda signum, frame: stop())
    return stopping, stop


def settle_heap() -> None:
    """Move what start-up built (modules, the app, caches) out of the collector's way.

    A full collection walks every tracked object; Vigil starts with ~220,000 (SQLAlchemy,
    pydantic, slack_sdk), and one took ~100 ms on the 2-core machine, pausing every thread,
    acks included. Frozen objects are never scanned again; the cost is that a cycle among
    them is never freed, and start-up makes none that matter (docs/benchmarks.md).
    """
    gc.collect()
    gc.freeze()


def serve(ctx: AppContext, client: WebClient, host: str, port: int, socket_mode: bool) -> None:
    preflight(ctx, client, socket_mode)
    stopping, stop = _on_sigterm(ctx)
    try:
        bolt, http = build_apps(ctx, client, socket_mode)
    except BoltError as exc:  # Slack changed its mind between the preflight and here
        raise StartupError(f"the Slack app could not start: {exc}") from exc
    scheduler = build_scheduler(ctx)
    ctx.jobs.start()
    ctx.enforcer.start()  # resumes actions a previous process left pending or leased
    catch_up(ctx)
    scheduler.start()
    settle_heap()
    try:
        if socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            handler = SocketModeHandler(bolt, secret(ctx.settings.slack_app_token))
            handler.connect()
            log.info("Vigil connected over Socket Mode")
            # /healthz and /metrics still serve over HTTP for the orchestrator.
            threading.Thread(
                target=uvicorn.run,
                args=(http,),
                kwargs={"host": host, "port": port, "log_config": None},
                daemon=True,
            ).start()
            stopping.wait()
        elif not stopping.is_set():
            log.info("Vigil listening", extra={"host": host, "port": port})
            config = uvicorn.Config(
                http,
                host=host,
                port=port,
                log_config=None,
                proxy_headers=True,
                timeout_graceful_shutdown=10,
            )
            _Server(config, on_exit=stop).run()
    finally:
        scheduler.shutdown(wait=False)
        ctx.enforcer.stop()
        ctx.jobs.stop()
        ctx.db.dispose()
