"""The lake: ratecard's ingest and billing on Apache Spark, over Hive-partitioned Parquet.

For users who outgrow one machine (ADR 0070). Spark distributes,
retries and scales; ratecard supplies the work: each task runs the embedded ingest's own
DuckDB staging over its share of the files (lake/stage.py), and billing is the embedded
billing SQL transpiled to Spark SQL (lake/transpile.py). pyspark is imported only by the
modules that drive Spark (lake/spark.py and those that use it); the layout, the DuckDB
catalog over a lake and the transpiler do not need it.
"""
