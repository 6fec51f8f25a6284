"""The Streamlit side of Paper KG; app.py is the entry point.

    state       session helpers and the cached loaders (Streamlit)
    pages       the pages (Streamlit)
    escape      esc_md / esc_dot: data text made safe for each renderer
    records     the paper page: metadata with provenance, notes, mentions, listings
    timeline    papers by date, coloured by topic or era, as a pandas DataFrame
    family      the lineage explorer: a deterministic layered layout by time, drawn as DOT
    related     the lineage family around a record
    build       first start: what is missing under data/build and the steps that make it

The view models (all but state and pages) are plain Python with no Streamlit, so they are tested
without a running app. Every text that comes from data is escaped once, for the context it goes to.
"""
