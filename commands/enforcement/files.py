"""The bulk file's download: the bot token goes only to Slack's files host, no redirect
follows it, and the size is capped by what a request may hold."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 5 * 1024 * 1024
FILES_URL = "https://files.slack.com/"  # the only origin the bot token goes to for a download
BYTES_PER_ID = 100  # generous for an id and a few extra CSV columns


class FileProblem(Exception):
    """Why an uploaded file was not read. Never carries what the file (or its host) said."""


def max_file_bytes(bulk_max: int) -> int:
    """A file of ids holds at most bulk_max of them: anything much bigger is not one."""
    return min(MAX_FILE_BYTES, 1024 + bulk_max * BYTES_PER_ID)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return None  # https://files.slack.com@evil.example/ names evil.example, not Slack
    return parts.scheme.lower(), parts.hostname.lower(), port


def is_slack_file_url(url: str, files_url: str = FILES_URL) -> bool:
    """Exactly Slack's files origin (scheme, host and port), parsed: never a prefix or a suffix."""
    origin = _origin(url)
    return origin is not None and origin == _origin(files_url)


def download(
    client: WebClient, file_id: str, *, files_url: str = FILES_URL, max_bytes: int = MAX_FILE_BYTES
) -> bytes:
    """A file the person uploaded in the modal, fetched with the bot token.

    The token goes only to Slack's files host, never through a redirect, and the download
    stops at ``max_bytes``: whatever files.info answers, the token stays Slack's.
    """
    try:
        info = client.files_info(file=file_id)["file"]
    except SlackApiError as exc:
        raise FileProblem(f"Slack would not give Vigil the file ({exc.response.get('error')}).") from None
    url = info.get("url_private_download") or info.get("url_private")
    if not url:
        raise FileProblem("That file has no download link; upload a CSV or text file.")
    if not is_slack_file_url(str(url), files_url):
        log.warning("refused a file link outside Slack's files host", extra={"file": file_id})
        raise FileProblem("That file's link does not point at Slack's files host; Vigil did not fetch it.")
    too_big = FileProblem(f"That file is over {max_bytes // 1024:,} KB, more than a list of ids; split it.")
    try:
        if int(info.get("size") or 0) > max_bytes:
            raise too_big
    except (TypeError, ValueError):
        pass  # no usable size: the stream below is capped anyway
    try:
        with httpx.stream(
            "GET",
            url,
            headers={"Authorization": f"Bearer {client.token}"},
            timeout=10,
            follow_redirects=False,
        ) as response:
            if response.is_redirect:
                raise FileProblem(
                    "Slack redirected the download elsewhere; Vigil does not follow it. Try again."
                )
            if response.status_code != 200:
                raise FileProblem(f"Could not download the file (HTTP {response.status_code}).")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise too_big
            return bytes(data)
    except httpx.HTTPError as exc:
        raise FileProblem(f"Could not download the file ({type(exc).__name__}); try again.") from None
