"""Jinja2 templates for every generated Markdown report.

Installed as the package `vaeaudit.templates` (see pyproject.toml) so that a wheel ships
them; `vaeaudit.render` is the only code that reads them.
"""
