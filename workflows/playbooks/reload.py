"""The live rules: a registry that swaps its RuleSet atomically when the folder changes,
and never replaces a working set with a broken one."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from workflows.playbooks.loader import PlaybookError, RuleSet, load_rules, playbook_files
from workflows.playbooks.ports import ReloadListener

log = logging.getLogger(__name__)


class Playbooks:
    """Holds the live RuleSet and swaps it atomically on reload; a broken folder never
    replaces a working one."""

    def __init__(self, folder: Path, listener: ReloadListener | None = None) -> None:
        self.folder = folder
        self.listener = listener
        self._lock = threading.Lock()
        self._rules = RuleSet(rules=[], version="none", folder=folder, files=[])
        self._fingerprint: str | None = None
        self.last_error: list[str] | None = None

    @property
    def rules(self) -> RuleSet:
        return self._rules

    def fingerprint(self) -> str:
        """Names, sizes and mtimes of the folder's files: cheap enough to poll every 15 s."""
        digest = hashlib.sha256()
        if self.folder.is_dir():
            for path in playbook_files(self.folder):
                stat = path.stat()
                digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()

    def reload(self) -> RuleSet:
        """Load the folder; on error keep the live rules, tell the listener, and raise."""
        fingerprint = self.fingerprint()
        try:
            rules = load_rules(self.folder)
        except PlaybookError as exc:
            with self._lock:
                self._fingerprint = fingerprint
                self.last_error = exc.problems
            log.error("playbook reload failed; keeping the live rules", extra={"problems": exc.problems})
            if self.listener is not None:
                self.listener.playbook_reload_failed(self.folder, exc.problems)
            raise
        with self._lock:
            previous = self._rules.version
            self._rules, self._fingerprint, self.last_error = rules, fingerprint, None
        if previous != rules.version:
            log.info("playbooks loaded", extra={"version": rules.version, "rules": len(rules.rules)})
        return rules

    def reload_if_changed(self) -> bool:
        if self.fingerprint() == self._fingerprint:
            return False
        try:
            self.reload()
        except PlaybookError:
            return False
        return True
