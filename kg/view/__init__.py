"""View models for the Streamlit app: plain Python, no Streamlit (kg/ never imports it).

`app.py` only lays out what these functions return. They turn records, graphs and search hits
into rows, labels, data frames and DOT text, and every text that comes from data is escaped
here, once, for the context it goes to (Markdown, HTML, a Graphviz label).

    escape      esc_md / esc_html / esc_dot: data text made safe for each renderer
    records     the paper page: metadata with provenance, notes, mentions, listings
    timeline    papers by date, coloured by topic or era, as a pandas DataFrame
    family      the lineage explorer: a deterministic layered layout by time, drawn as DOT
    build       first start: what is missing under data/build and the steps that make it
"""
