"""libcst codemods that turn scanner findings into Poincaré-ball geometry.

The scanner (`vaeaudit.scan`) decides *what* is wrong; this package decides *how* to rewrite
it and whether that rewrite is safe. `rewrite.rewrite_module` is the engine; the
`commands` module wraps it as libcst CodemodCommands (for `python -m libcst.tool codemod`)
and `file_fixer` hands it to the scanner's workers for `vaeaudit fix` / `scan --fix` (the
rewrite runs on the scan's own parse), then verifies and diffs or writes atomically.
"""
