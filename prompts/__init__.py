"""Jinja2 prompt templates for the LLM (``*.j2`` beside this file).

StrictUndefined: a template that names a missing variable fails loudly instead of
sending the model a prompt with a hole in it.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

_env = Environment(loader=PackageLoader("prompts", "."), undefined=StrictUndefined, autoescape=False)


def render(name: str, **context: Any) -> str:
    return _env.get_template(name).render(**context)
