"""libcst codemods that turn scanner findings into Poincaré-ball geometry.

The scanner (`vaeaudit.scan`) decides *what* is wrong; this package decides *how* to rewrite
it and whether that rewrite is safe. `rewrite.rewrite_module` is the engine; the
`commands` module wraps it as libcst CodemodCommands (for `python -m libcst.tool codemod`)
and `file_fixer` wraps it for `vaeaudit fix` (diff, verification, atomic writes).
"""
