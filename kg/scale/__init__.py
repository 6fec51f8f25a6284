"""Past one machine: the corpus as partitioned Parquet, embedding on Ray Data, edges in DuckDB.

parquet.py   papers, edges and vectors as Parquet part files (pyarrow); round-trips with the snapshot
ray_embed.py an `Encoder` whose `encode` runs as a Ray Data job (`kg build --ray`)
ivf.py       a compressed faiss index trained on a sample and filled in chunks
graph_sql.py neighbours, paths and lineage as recursive SQL in DuckDB over the edges' Parquet
See docs/scale.md.
"""
