"""What Spark's decimal arithmetic does to ratecard's amounts, with precision loss allowed
(Spark's default) and not (the lake's sessions, lake/spark.py; ADR 0070).

``python -m benchmarks.spark_decimals``: needs the ``spark`` extra and Java 17+; prints each
expression's result type and value under both settings (benchmarks/FINDINGS.md).
"""

from __future__ import annotations

from lake.spark import session

_EXPRESSIONS = """
SELECT
    CAST(123456789 AS BIGINT) * CAST(0.00000027 AS DECIMAL(38, 15)) AS product,
    CAST(7 AS BIGINT) * CAST(0.000000123456789 AS DECIMAL(38, 18)) AS product_18,
    CAST(1.000000000000001 AS DECIMAL(38, 15)) + CAST(1.000000000000001 AS DECIMAL(38, 15))
    + CAST(1.000000000000001 AS DECIMAL(38, 15)) + CAST(1.000000000000001 AS DECIMAL(38, 15))
    + CAST(1.000000000000001 AS DECIMAL(38, 15)) AS five_amounts
"""
_SUM = (
    "SELECT sum(CAST(id AS BIGINT) * CAST(0.000000270000001 AS DECIMAL(38, 15))) AS total "
    "FROM range(1000000)"
)


def main() -> None:
    spark = session("local[1]")
    for allowed in ("true", "false"):
        spark.conf.set("spark.sql.decimalOperations.allowPrecisionLoss", allowed)
        for query in (_EXPRESSIONS, _SUM):
            frame = spark.sql(query)
            print(f"allowPrecisionLoss={allowed}", frame.schema.simpleString(), frame.collect())
    spark.stop()


if __name__ == "__main__":
    main()
