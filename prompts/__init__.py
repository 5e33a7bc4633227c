"""Jinja2 prompt templates for the LLM (``*.j2`` beside this file).

StrictUndefined: a template that names a missing variable fails loudly instead of
sending the model a prompt with a hole in it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

_env = Environment(loader=PackageLoader("prompts", "."), undefined=StrictUndefined, autoescape=False)


def render(name: str, **context: Any) -> str:
    return _env.get_template(name).render(**context)


def source_hash(*names: str) -> str:
    """The content hash of templates, stored with every call so a change of prompt shows in
    the figures (`vigil ai calls`)."""
    digest = hashlib.sha256()
    for name in names:
        source, _, _ = _env.loader.get_source(_env, name)  # type: ignore[union-attr]
        digest.update(name.encode() + b"\0" + source.encode() + b"\0")
    return digest.hexdigest()[:16]
