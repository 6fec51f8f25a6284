"""The Streamlit side of Paper KG: session helpers (state) and pages; app.py is the entry point."""
