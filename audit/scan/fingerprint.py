"""What the analysis of a file reads of its text: its code, and only three kinds of comment.

Most edits while writing research code touch comments (a note, a TODO, a line commented out).
The analysis never reads a comment, except:
- a `# noqa`, which hides findings on its line (`vaeaudit.scan.suppression`);
- a comment inside brackets, which is part of the text of the expression around it, and a
  finding's evidence or fix may spell that text (`Taint.short`);
- the words the prefilter looks for, wherever they are: its triage decides whether a file is
  analysed at all, so the runner keeps the triage beside this fingerprint;
- the length of its line: a line of 1,000 characters has the file looked at for statements too
  deep to parse (`vaeaudit.scan.depth`), so whether there is one is part of the fingerprint.
Every other token is kept with its position, so that equal fingerprints mean the same findings
at the same lines and columns, and the same summary: the runner's early cutoff then keeps a
file's last result without parsing it (`runner._edits_keep_the_fixpoint`).
"""

from __future__ import annotations

import hashlib
import io
import tokenize

from vaeaudit.scan.depth import may_mask

_OPENING, _CLOSING = frozenset("([{"), frozenset(")]}")
# Tokens whose position moves with a comment on their line (NEWLINE comes after it), or that only mark
# structure (INDENT/DEDENT sit before the next code token, which carries the position).
_WITHOUT_POSITION = frozenset((tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER))


def code_fingerprint(text: str) -> str | None:
    """A digest of what the analysis reads of `text`; None when this Python's tokenizer rejects it."""
    kept: list[object] = [may_mask(text)]
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = token.type, token.string
            if kind == tokenize.NL:
                continue
            if kind == tokenize.COMMENT:
                if depth > 0 or "noqa" in string.lower():
                    kept.append((kind, string, token.start))
                continue
            if kind == tokenize.OP:
                depth += string in _OPENING
                depth -= string in _CLOSING
            kept.append((kind, string) if kind in _WITHOUT_POSITION else (kind, string, token.start, token.end))
    except (tokenize.TokenError, SyntaxError):
        return None
    return hashlib.blake2b(repr(kept).encode(), digest_size=16).hexdigest()
