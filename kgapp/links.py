"""Links and HTML blocks of the app: every record a link to its paper page, tables that never clip.

Plain Python (no Streamlit). A record is an `<a data-kg-nav href="paper?paper=ID">`; the small script
`NAV_SCRIPT` (installed once per page by kgapp.state) turns a plain click on such a link, or on a
node of the lineage drawing, into Streamlit's own in-app navigation (a history entry and a rerun in
the same session), so Back works and the export selection survives; a middle click or Ctrl+click
still opens a new tab. Tables are HTML: cells wrap, and under 640 px each row becomes a small card
(label: value), so nothing is cut off at any width. Every text from data is escaped here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from kgapp.escape import esc_html

MISSING = "—"
NARROW_PX = 640  # below this width tables become lists and the lineage drawing gives way to its list


def page_href(page: str, **params: str) -> str:
    """A link to one of the app's pages, relative to the app's root ("paper?paper=2112.10752")."""
    query = urlencode(params, quote_via=quote, safe=":") if params else ""
    return f"{page}?{query}" if query else page


def paper_href(record_id: str) -> str:
    return page_href("paper", paper=record_id)


def record_link(record_id: str, text: str, css: str = "") -> str:
    """`<a>` to the record's paper page; in-app navigation (see NAV_SCRIPT)."""
    cls = f' class="{css}"' if css else ""
    return f'<a data-kg-nav="1"{cls} href="{esc_html(paper_href(record_id))}">{esc_html(text)}</a>'


def external_link(url: str, text: str) -> str:
    return f'<a href="{esc_html(url)}" target="_blank" rel="noopener noreferrer">{esc_html(text)}</a>'


def arxiv_urls(arxiv_id: str | None) -> list[tuple[str, str]]:
    """(label, url) of the arXiv abstract page and PDF of an id; none without an id."""
    if not arxiv_id:
        return []
    return [("arXiv", f"https://arxiv.org/abs/{arxiv_id}"), ("PDF", f"https://arxiv.org/pdf/{arxiv_id}")]


@dataclass(frozen=True)
class Column:
    """A table column: its heading, the row key it shows, and the row key holding a record id to link
    its text to (None: plain text)."""

    heading: str
    key: str
    link_id: str | None = None


def html_table(rows: Sequence[dict[str, str]], columns: Iterable[Column], css: str = "") -> str:
    """An HTML table of `rows` (escaped); record columns are links to the paper page."""
    cols = list(columns)
    head = "".join(f"<th>{esc_html(c.heading)}</th>" for c in cols)
    body = []
    for row in rows:
        cells = []
        for c in cols:
            text = str(row.get(c.key) or MISSING)
            target = row.get(c.link_id) if c.link_id else None
            shown = record_link(target, text) if target else esc_html(text)
            cells.append(f'<td data-label="{esc_html(c.heading)}">{shown}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="kg-table {css}"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def link_list(items: Iterable[tuple[str, str, str]]) -> str:
    """(record id, label, trailing text) as a compact list of links."""
    lis = [f"<li>{record_link(rid, label)}{esc_html(tail)}</li>" for rid, label, tail in items]
    return f'<ul class="kg-list">{"".join(lis)}</ul>'


# Colours use the theme's text colour with transparency, so light and dark themes both read well.
STYLE = f"""<style>
.kg-table {{ max-width: 100%; overflow-x: auto; margin: 0 0 1rem 0; }}
.kg-table table {{ width: 100%; border-collapse: collapse; font-size: 0.9rem; table-layout: auto; }}
.kg-table th, .kg-table td {{ text-align: left; vertical-align: top; padding: 0.3rem 0.5rem;
  border-bottom: 1px solid rgba(128, 128, 128, 0.3); overflow-wrap: break-word; }}
.kg-table td[data-label="where"], .kg-table td[data-label="source"], .kg-table td[data-label="value"],
.kg-table td[data-label="evidence"], .kg-table td[data-label="sentence"] {{ overflow-wrap: anywhere; }}
.kg-table th {{ font-weight: 600; opacity: 0.8; }}
.kg-hit-title {{ font-size: 1.1rem; font-weight: 600; }}
.kg-meta {{ opacity: 0.75; font-size: 0.9rem; }}
.kg-list {{ margin: 0 0 0.5rem 1.1rem; padding: 0; }}
.kg-hit a, .kg-table a, .kg-list a, a[data-kg-nav] {{ color: #3d8bd9; }}
a[data-kg-nav] {{ text-decoration: none; }}
a[data-kg-nav]:hover {{ text-decoration: underline; }}
@media (max-width: {NARROW_PX}px) {{
  .kg-table thead {{ display: none; }}
  .kg-table table, .kg-table tbody, .kg-table tr, .kg-table td {{ display: block; width: 100%; }}
  .kg-table tr {{ border-bottom: 1px solid rgba(128, 128, 128, 0.4); padding: 0.3rem 0; }}
  .kg-table td {{ border: none; padding: 0.1rem 0.2rem; }}
  .kg-table td::before {{ content: attr(data-label) ": "; font-weight: 600; opacity: 0.7; }}
  .kg-wide-only {{ display: none; }}
}}
@media (min-width: {NARROW_PX + 1}px) {{ .kg-narrow-only {{ display: none; }} }}
</style>"""

# A plain click on a record link (or a node of the lineage drawing) becomes the same in-app
# navigation as the browser's Back and Forward: a history entry, then Streamlit's popstate handler
# reruns the app on that page and query in the same session. Installed once per browser page.
NAV_SCRIPT = """<script>
(() => {
  if (window.__kgNav) return;
  window.__kgNav = true;
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey
        || event.altKey) return;
    const link = event.target.closest && event.target.closest(
      "a[data-kg-nav], [data-testid=stGraphVizChart] a");
    if (!link) return;
    const href = link.getAttribute("href") || link.getAttribute("xlink:href");
    if (!href) return;
    const url = new URL(href, window.location.href);
    if (url.origin !== window.location.origin) return;
    event.preventDefault();
    event.stopPropagation();
    window.history.pushState({}, "", url.toString());
    window.dispatchEvent(new PopStateEvent("popstate", {state: {}}));
  }, true);
})();
</script>"""
