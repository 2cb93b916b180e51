"""Text from checkpoints and folder names is attacker-controlled: keep it off the
terminal's control channel.

A key or run name holding ESC sequences could recolour, retitle or rewrite a terminal;
every control character except newline and tab is shown as a visible escape instead.
"""

from __future__ import annotations

import unicodedata


def terminal_safe(text: str) -> str:
    return "".join(
        character if character in "\n\t" or unicodedata.category(character)[0] != "C" else repr(character)[1:-1] for character in text
    )
