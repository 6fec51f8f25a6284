"""Escaping of data text for each place it is shown: Markdown and Graphviz DOT labels.

Every string that comes from the corpus (titles, notes, evidence, names) goes through one of these
before the app hands it to a renderer, so a title such as `<script>alert(1)</script> & <b>x</b>`
is shown as those characters and never interpreted.
"""

from __future__ import annotations

import html
import re

# CommonMark lets any ASCII punctuation be escaped with a backslash; escaping all of it also turns
# off Streamlit's own Markdown extensions (`:red[…]` directives, `$…$` math, `~~`).
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
_SPACES = re.compile(r"\s+")


def esc_md(text: object) -> str:
    """`text` as literal Markdown: punctuation backslash-escaped, line breaks folded to spaces.

    Folding whitespace keeps a data value inside the Markdown block it is placed in (a list item,
    a table cell, a heading); a newline or leading spaces there could open a new block.
    """
    flat = _SPACES.sub(" ", str(text)).strip()
    return _MD_SPECIAL.sub(r"\\\1", flat)


def esc_html(text: object) -> str:
    """`text` for HTML element content or a quoted attribute value."""
    return html.escape(str(text), quote=True)


def esc_dot(text: object, limit: int | None = None) -> str:
    """`text` for a double-quoted DOT string used as a label or tooltip.

    Graphviz decodes HTML entities in labels and treats backslash sequences (`\\n`, `\\N`, `\\G`)
    as escapes, so `&`, `<`, `>` and `"` become entities and a backslash becomes `\\\\`.
    `limit` shortens long text (with an ellipsis) before escaping, so an entity is never cut.
    """
    flat = _SPACES.sub(" ", str(text)).strip()
    if limit is not None and len(flat) > limit:
        flat = flat[: max(limit - 1, 0)].rstrip() + "…"
    return html.escape(flat, quote=True).replace("\\", "\\\\")


def shorten(text: object, limit: int) -> str:
    """`text` on one line, cut at `limit` characters with an ellipsis (no escaping)."""
    flat = _SPACES.sub(" ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)].rstrip() + "…"
