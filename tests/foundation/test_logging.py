"""An on-call engineer ships Vigil's logs to a shared log store: whatever a library, an error
or a careless line of ours prints, no credential reaches it, and the rest stays readable."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logging import REDACTED, configure_logging, scrub

# (a log line, the secrets in it, what must still be readable)
CORPUS: list[tuple[str, list[str], list[str]]] = [
    ("auth.test failed for xoxb-1234-5678-abcdEFGH", ["1234-5678-abcdEFGH"], ["auth.test failed for"]),
    ("user token xoxp-1-2-3-abc in a URL", ["xoxp-1-2-3-abc"], ["in a URL"]),
    ("refresh with xoxe-1-ABCDEF123456", ["ABCDEF123456"], ["refresh with"]),
    ("rotated to xoxe.xoxp-1-Mi0yLTE2NjQ", ["Mi0yLTE2NjQ"], ["rotated to"]),
    ("legacy xoxa-2-abc and xoxr-99-xyz and xoxs-1-q", ["xoxa-2-abc", "xoxr-99-xyz", "xoxs-1-q"], ["legacy"]),
    ("socket connect with xapp-1-A0VIGIL01-123-abcdef", ["A0VIGIL01-123-abcdef"], ["socket connect"]),
    ("env SLACK_APP_TOKEN_xapp-1-AAA", ["xapp-1-AAA"], []),
    ("Authorization: Basic dXNlcjpodW50ZXIy", ["dXNlcjpodW50ZXIy"], ["Authorization"]),
    ("retrying with header basic dmlnaWw6czNjcmV0 again", ["dmlnaWw6czNjcmV0"], ["again"]),
    ("curl -H 'Authorization: Bearer abc.def-ghi' https://x", ["abc.def-ghi"], ["https://x"]),
    ("sent Bearer eyJhbGciOi.payload.sig", ["eyJhbGciOi"], ["sent Bearer"]),
    ("authorization=Token 9f8e7d6c", ["9f8e7d6c"], []),
    ("GET /api/v1/x?token=abc123&user=U0ANA0001", ["abc123"], ["user=U0ANA0001", "GET /api/v1/x?token="]),
    ("https://jira.example.com/rest?api_key=K3yK3y&x=1", ["K3yK3y"], ["x=1", "jira.example.com"]),
    ("client_secret=abc password=hunter2 secret=shh ok", ["=abc", "hunter2", "shh"], ["ok"]),
    ("config VIGIL_SIGNALS_TOKEN=sig-123 loaded", ["sig-123"], ["loaded"]),
    ('body {"token": "tok 123", "ok": true}', ["tok 123"], ['"ok": true']),
    ("form token=Fq2legacy&team_id=T0TEAM001", ["Fq2legacy"], ["team_id=T0TEAM001"]),
    ("passwd: p4ss api-key: k3y apikey=k4y", ["p4ss", "k3y", "k4y"], []),
    ("database at postgresql+psycopg://vigil:s3cret@db:5432/vigil", ["s3cret"], ["@db:5432/vigil"]),
    ("redis://:hunter2@cache:6379/0 down", ["hunter2"], ["cache:6379"]),
    ("OPENAI_API_KEY is sk-proj-abcdefghijkl", ["abcdefghijkl"], ["OPENAI_API_KEY"]),
    (
        "Invalid request signature detected (signature: v0=abc123, timestamp: 1)",
        ["v0=abc123"],
        ["timestamp: 1"],
    ),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", ["eyJzdWIiOiIxIn0"], []),
]

# Lines that carry no secret and must come out unchanged.
CLEAN = [
    "Basic Information → App Credentials → Signing Secret",
    "ingested signals=5 reports=2 for acct_1",
    "Idempotency-Key vigil:REQ-12:acct_1:suspend",
    "listening on https://vigil.example.com:8443/slack/events",
    "digest posted in C0DIG0001 (ts 1764000000.000100)",
    "the basic plan is fine",
]


@pytest.mark.parametrize(("line", "secrets", "kept"), CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_each_line_of_the_corpus_is_scrubbed(line: str, secrets: list[str], kept: list[str]) -> None:
    out = scrub(line)
    for secret in secrets:
        assert secret not in out, out
    for text in kept:
        assert text in out, out
    assert REDACTED in out


@pytest.mark.parametrize("line", CLEAN)
def test_lines_without_secrets_stay_as_they_were(line: str) -> None:
    assert scrub(line) == line


def test_the_corpus_is_scrubbed_in_messages_extra_fields_and_exception_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "INFO")
    log = logging.getLogger("vigil.test.redaction")
    for line, _secrets, _kept in CORPUS:
        log.warning(line)  # in the message
        log.warning("%s", line)  # formatted in by a library, %-style
        log.warning("call failed", extra={"detail": line, "nested": {"reply": [line]}})  # in extra fields
        try:
            raise RuntimeError(line)
        except RuntimeError as exc:
            log.exception("job failed")  # in a traceback
            log.warning("job failed", extra={"error": exc})  # an exception object as a field
    log.warning("headers", extra={"headers": {"Authorization": "Basic x", "X-Slack-Signature": "v0=1"}})
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 5 * len(CORPUS) + 1
    text = "\n".join(lines)
    for _line, secrets, _kept in CORPUS:
        for secret in secrets:
            assert secret not in text
    assert json.loads(lines[-1])["headers"] == {"Authorization": REDACTED, "X-Slack-Signature": REDACTED}
    assert '"detail": "user token [redacted] in a URL"' in text
