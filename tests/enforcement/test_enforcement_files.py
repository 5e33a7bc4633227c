"""An analyst uploads a CSV of ids in the /suspend modal; Vigil fetches it with the bot token.
Whatever files.info answers, the token goes to Slack's files host and nowhere else."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.fakes.slack import FakeSlack
from commands.enforcement import is_slack_file_url, max_file_bytes
from store.enforcement import EnforcementRequest
from tests.harness.enforcement_steps import ask
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.world import BOT_TOKEN, config_data
from workflows.config import parse_config

LOOT = b"account_id\nacct_evil_1\n<!channel> secret-looking-content\n"


class Attacker:
    """A server someone would like Vigil's bot token sent to: records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        attacker = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                attacker.requests.append({"path": self.path, **dict(self.headers)})
                self.send_response(200)
                self.send_header("Content-Length", str(len(LOOT)))
                self.end_headers()
                self.wfile.write(LOOT)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    server = Attacker()
    yield server
    server.stop()


def uploaded_pointing_at(fake_slack: FakeSlack, url: str) -> list[dict[str, Any]]:
    """An upload whose files.info answer names ``url`` as its download link."""
    uploaded = fake_slack.user_file("ids.csv", b"account_id\nacct_1\n")
    fake_slack.file_infos[uploaded["id"]]["url_private_download"] = url
    return [uploaded]


def request_count(vigil: Vigil) -> int:
    with vigil.db.read() as session:
        return session.scalar(select(func.count()).select_from(EnforcementRequest)) or 0


def test_a_file_link_anywhere_but_slacks_files_host_is_never_fetched(
    vigil: Vigil, fake_slack: FakeSlack, attacker: Attacker
) -> None:
    slack_port = fake_slack.base_url.rsplit(":", 1)[1]
    links = {
        "another host": f"{attacker.url}/files/ids.csv",
        "another scheme": f"https://127.0.0.1:{slack_port}/files/ids.csv",  # tests' files host is http
        "a longer host name": f"http://127.0.0.1.evil.test:{slack_port}/files/ids.csv",
        "the files host as user info": f"http://127.0.0.1:{slack_port}@127.0.0.1:{attacker.port}/files/x",
    }
    for case, url in links.items():
        body = ask(vigil, files=uploaded_pointing_at(fake_slack, url)).json()
        assert body["response_action"] == "errors", case
        error = body["errors"]["file"]
        assert "does not point at Slack's files host" in error, case
        assert "acct_evil" not in error and "127.0.0.1" not in error, case
    assert attacker.requests == []  # no request at all, so no Authorization header either
    assert fake_slack.calls_of("files.download") == []
    assert request_count(vigil) == 0


def test_a_redirect_from_the_files_host_is_not_followed_with_the_token(
    vigil: Vigil, fake_slack: FakeSlack, attacker: Attacker
) -> None:
    uploaded = fake_slack.user_file("moved.csv", b"account_id\nacct_1\n")
    fake_slack.redirects["moved.csv"] = f"{attacker.url}/steal"
    body = ask(vigil, files=[uploaded]).json()
    assert body["response_action"] == "errors"
    assert "redirected the download elsewhere" in body["errors"]["file"]
    (asked,) = fake_slack.calls_of("files.redirect")
    assert asked.token == f"Bearer {BOT_TOKEN}"  # Slack's own host saw it; nobody else did
    assert attacker.requests == []
    assert request_count(vigil) == 0


def test_an_oversize_file_is_refused_without_reading_it_all_or_echoing_it(
    make_vigil: VigilFactory, fake_slack: FakeSlack
) -> None:
    data = config_data()
    data["enforcement"]["bulk_max"] = 100
    vigil = make_vigil(config=parse_config(data))
    cap = max_file_bytes(100)
    assert cap < 20_000
    big = b"account_id\n" + b"".join(f"acct_{n}\n".encode() for n in range(2_000)) + b"<!channel>\n"
    assert len(big) > cap

    honest = fake_slack.user_file("big.csv", big)  # files.info says how big: not even fetched
    body = ask(vigil, files=[honest]).json()
    assert f"over {cap // 1024:,} KB" in body["errors"]["file"]
    assert fake_slack.calls_of("files.download") == []

    lying = fake_slack.user_file("small.csv", big)
    fake_slack.file_infos[lying["id"]]["size"] = 12  # says small: the stream stops at the cap
    body = ask(vigil, files=[lying]).json()
    error = body["errors"]["file"]
    assert f"over {cap // 1024:,} KB" in error
    assert "acct_" not in error and "channel" not in error  # nothing of the file comes back
    assert len(fake_slack.calls_of("files.download")) == 1
    assert request_count(vigil) == 0


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://files.slack.com/files-pri/T1-F1/download/ids.csv", True),
        ("https://FILES.slack.com:443/files-pri/T1-F1/ids.csv", True),
        ("http://files.slack.com/files-pri/T1-F1/ids.csv", False),
        ("https://files.slack.com.evil.com/ids.csv", False),
        ("https://evil.files.slack.com/ids.csv", False),
        ("https://evil.com/https://files.slack.com/ids.csv", False),
        ("https://files.slack.com@evil.com/ids.csv", False),
        ("https://files.slack.com:8443/ids.csv", False),
        ("//files.slack.com/ids.csv", False),
        ("https://[files.slack.com/ids.csv", False),
    ],
)
def test_only_exactly_https_files_slack_com_is_slacks_files_host(url: str, allowed: bool) -> None:
    assert is_slack_file_url(url) is allowed
