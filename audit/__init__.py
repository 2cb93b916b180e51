"""vaeaudit: the audit toolkit (CLI, static scanner, checkpoint inspector).

Nothing heavy is imported here: `vaeaudit --help` must answer without torch or libcst.
"""

__version__ = "0.1.0"
