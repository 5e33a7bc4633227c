"""Bolt's listener runner, answering the moment a listener acks.

With ``process_before_response=False`` Bolt runs each listener in the executor and the
request's thread polls ``ack.response`` every 10 ms (``time.sleep(0.01)``) until the
listener acks: ~5 ms added to every ack on average, and under load each polling thread
wakes 100 times a second to fight for the GIL. Here the ack sets an event the request's
thread waits on instead, and a listener marked ``acks_at_once`` (commands/listeners.py) is
acked in the request's thread before its own starts. Everything else is Bolt's own code
path (start/completion/error handlers, lazy listeners, the ack timeout, the warning for a
listener that never acks).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.listener import Listener
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack


class SignalledAck(Ack):
    """An Ack that tells the waiting request thread it was called."""

    done: threading.Event

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.done.set()


def signalled(ack: Ack) -> SignalledAck:
    if not isinstance(ack, SignalledAck):
        # The context made it (Context.ack): same object, now one that signals, so whoever
        # already holds it still acks the request that is waiting.
        ack.__class__ = SignalledAck
        ack.done = threading.Event()  # type: ignore[attr-defined]
    if ack.response is not None:
        ack.done.set()  # type: ignore[attr-defined]
    return ack  # type: ignore[return-value]


class PromptListenerRunner(ThreadListenerRunner):
    def run(
        self,
        request: BoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: Listener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        if self.process_before_response or request.lazy_only:
            # Bolt's own path: the ack already happens in the request's thread.
            return super().run(request, response, listener_name, listener, starting_time)
        ack = signalled(request.context.ack)
        starting_time = starting_time if starting_time is not None else time.time()
        if listener.auto_acknowledgement or getattr(listener.ack_function, "acks_at_once", False):
            ack()
        outcome: dict[str, BoltResponse | None] = {"response": response}

        def run_ack_function() -> None:
            try:
                self.listener_start_handler.handle(request=request, response=response)
                listener.run_ack_function(request=request, response=response)
            except Exception as exc:
                failed = outcome["response"]
                if listener.auto_acknowledgement:
                    self.listener_error_handler.handle(error=exc, request=request, response=failed)
                else:
                    failed = failed or BoltResponse(status=500)
                    failed.status = 500
                    if ack.response is not None:  # already acknowledged
                        failed = None
                    self.listener_error_handler.handle(error=exc, request=request, response=failed)
                    ack.response = failed
                outcome["response"] = failed
            finally:
                self.listener_completion_handler.handle(request=request, response=outcome["response"])
                ack.done.set()  # a listener that returned (or failed) without acking never will

        self.listener_executor.submit(run_ack_function)
        for lazy_func in listener.lazy_functions:
            self._start_lazy_function(lazy_func, request)

        ack.done.wait(max(0.0, listener.ack_timeout - (time.time() - starting_time)))
        response = outcome["response"]
        if response is None and ack.response is None:
            self.logger.warning(warning_did_not_call_ack(listener_name))
            return None
        if response is None:
            return ack.response
        return response


def answer_on_ack(app: App) -> App:
    """Make ``app`` answer each request as soon as its listener acks (see the module doc).

    Bolt builds its runner in App.__init__ with no way to pass another; this keeps that
    instance (its executor, handlers, and the error handler ``@app.error`` sets later) and
    only changes how it waits."""
    runner = app._listener_runner
    if type(runner) is not ThreadListenerRunner:
        raise TypeError(f"Bolt's listener runner is a {type(runner).__name__}; expected ThreadListenerRunner")
    runner.__class__ = PromptListenerRunner
    return app
