"""The timeline's data: one row per dated record, with a topic and an era to colour by.

Eras follow the reading list's own division of the history (image-generation-101.md, line 14:
"we can divide the history into 3 eras: VAE, GAN, Diffusion. And maybe the 4th one, VAR"); each
era starts at the date of the paper that opened it, looked up in the corpus, so an era whose paper
is not in the corpus is simply absent and nothing is dated by hand.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import altair as alt
import pandas as pd

from kg.corpus import Corpus, Record
from kgapp.records import describe, top_topic

ERA_SOURCE = "reading-lists/image-generation-101.md:14"
# (era name, the id of the paper that opens it)
ERA_PAPERS = [("VAE", "1312.6114"), ("GAN", "1406.2661"), ("Diffusion", "2006.11239"), ("VAR", "2404.02905")]
BEFORE_ERAS = "before VAE"
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
COLOR_FIELDS = ("topic", "era", "kind")
SELECTION = "pick"  # the name of the chart's point selection (a click picks a record by id)
COLUMNS = ["id", "label", "title", "date", "year", "precision", "topic", "era", "kind", "status", "describe",
           "jitter"]
ROW_PX = 64  # height of one row (a topic, an era or a kind); points spread inside it by `jitter`


@dataclass(frozen=True)
class Era:
    name: str
    start: pd.Timestamp
    paper: str


def record_date(record: Record) -> pd.Timestamp | None:
    """The record's date as a timestamp ("2021-12" -> 2021-12-01, "2022" and "2022+" -> 2022-01-01,
    as `Record.year` reads them); None when it has no year."""
    match = _DATE.match((record.published or "").strip())
    if not match:
        return None
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        return pd.Timestamp(year=year, month=month, day=day)
    except ValueError:
        return pd.Timestamp(year=year, month=1, day=1)


def build_eras(corpus: Corpus) -> list[Era]:
    """The eras whose opening paper is in the corpus and dated, in date order."""
    eras = []
    for name, paper_id in ERA_PAPERS:
        record = corpus.papers.get(paper_id)
        start = record_date(record) if record else None
        if start is not None:
            eras.append(Era(name, start, paper_id))
    return sorted(eras, key=lambda e: e.start)


def era_of(date: pd.Timestamp, eras: list[Era]) -> str:
    name = BEFORE_ERAS
    for era in eras:
        if date >= era.start:
            name = era.name
    return name


def timeline_frame(corpus: Corpus, records: list[Record] | None = None) -> tuple[pd.DataFrame, list[Record]]:
    """(a frame of the dated records sorted by date, the undated records left out of it)."""
    eras = build_eras(corpus)
    rows, undated = [], []
    for record in records if records is not None else corpus.records():
        date = record_date(record)
        if date is None:
            undated.append(record)
            continue
        precision = getattr(record, "published_precision", None) or getattr(record, "date_precision", None)
        rows.append({"id": record.id, "label": record.label, "title": record.title, "date": date,
                     "year": date.year, "precision": precision or "", "topic": top_topic(record),
                     "era": era_of(date, eras), "kind": record.kind, "status": record.status,
                     "describe": describe(record), "jitter": jitter(record.id)})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if not frame.empty:
        frame = frame.sort_values(["date", "id"], kind="stable").reset_index(drop=True)
    return frame, sorted(undated, key=lambda r: r.id)


def jitter(record_id: str) -> float:
    """A fixed offset in [-0.4, 0.4] from the record's id (the same on every run), so records of the same
    months in one row spread across its height instead of overplotting."""
    digest = hashlib.sha256(record_id.encode("utf-8")).digest()
    return round(int.from_bytes(digest[:4], "big") / 2**32 * 0.8 - 0.4, 4)


def default_span(frame: pd.DataFrame, share: float = 0.9) -> tuple[str, str]:
    """The span the chart opens on: the latest `share` of the records (older ones are a pan away),
    so the crowded recent years get the width; ISO dates, a quarter of a year of margin each side."""
    dates = frame["date"].sort_values()
    first = dates.iloc[int(len(dates) * (1 - share))] - pd.DateOffset(months=3)
    last = dates.iloc[-1] + pd.DateOffset(months=3)
    return first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")


def build_timeline_chart(frame: pd.DataFrame, colour: str) -> alt.Chart:
    """A strip chart: one row per value of `colour` (topic, era or kind), dates along x (zoom and pan by
    dragging or scrolling), each point offset inside its row by `jitter`, a tooltip with label, title
    and date, and a point selection on the record id (clicking a point picks it)."""
    point = alt.selection_point(fields=["id"], name=SELECTION)
    zoom = alt.selection_interval(bind="scales", encodings=["x"], name="zoom")
    start, end = default_span(frame)
    rows = alt.Y(f"{colour}:N", title=None, axis=alt.Axis(labelLimit=260, labelFontSize=12))
    tooltip = ["label", "title", alt.Tooltip("date:T", format="%Y-%m-%d"), "topic", "era"]
    x = alt.X("date:T", title="date (drag to pan, scroll to zoom)", axis=alt.Axis(labelFontSize=12),
              scale=alt.Scale(domain=[start, end]))
    return (alt.Chart(frame).mark_circle(size=70, opacity=0.8, stroke="white", strokeWidth=0.5, clip=True)
            .encode(x=x, y=rows,
                    yOffset=alt.YOffset("jitter:Q", scale=alt.Scale(domain=[-0.5, 0.5])),
                    color=alt.Color(f"{colour}:N", legend=None), tooltip=tooltip)
            .add_params(point, zoom).properties(height=max(240, ROW_PX * frame[colour].nunique())))
