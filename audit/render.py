"""Render the Markdown reports from the jinja2 templates in `templates/`.

Markdown has no real escaping, so every value that comes from the outside world (run
names, paths, metric strings, source snippets) goes through the `md` filter, which
neutralises table pipes, HTML, links, emphasis and line breaks. Templates must apply it
to every such value; `code` does the same for inline code spans.
"""

from __future__ import annotations

import importlib.resources
import re
from typing import Any

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")
# Line and paragraph separators and other control characters: a cell must stay one line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_markdown(value: Any) -> str:
    """Make `value` inert inside a Markdown table cell or paragraph."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(" ", text.replace("&", "&amp;").replace("\r\n", " "))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def inline_code(value: Any) -> str:
    """Wrap `value` in a code span that its own backticks cannot close; safe in tables."""
    text = _CONTROL.sub(" ", "" if value is None else str(value)).replace("|", "\\|")
    longest_run = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest_run + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def template_environment():
    """A jinja2 Environment over the installed templates, with the `md` and `code` filters."""
    import jinja2

    folder = importlib.resources.files("vaeaudit.templates")
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    environment.filters["md"] = escape_markdown
    environment.filters["code"] = inline_code
    return environment


def render(template_name: str, **context: Any) -> str:
    """Render one template from `templates/` with `context`."""
    return template_environment().get_template(template_name).render(**context)
