"""The lake's files, through Hadoop's FileSystem API of the Spark session (file:, s3a:,
hdfs:, abfss: ... whichever the cluster can reach), so that a job commits by renames."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession


class LakeFiles:
    """The file system under one lake path."""

    def __init__(self, spark: SparkSession, lake: str) -> None:
        jvm: Any = spark.sparkContext._jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        self._fs = self._path(lake).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        self.root = str(self._fs.makeQualified(self._path(lake)).toString()).rstrip("/")

    def qualified(self, path: str) -> str:
        """``path`` as the file system names it (scheme included), without a final /."""
        return str(self._fs.makeQualified(self._path(path)).toString()).rstrip("/")

    def exists(self, path: str) -> bool:
        return bool(self._fs.exists(self._path(path)))

    def delete(self, path: str) -> None:
        self._fs.delete(self._path(path), True)

    def data_files(self, folder: str) -> list[str]:
        """The Parquet files under ``folder``, at any depth (partitions)."""
        if not self.exists(folder):
            return []
        found, files = [], self._fs.listFiles(self._path(folder), True)
        while files.hasNext():
            name = str(files.next().getPath().toString())
            if name.endswith(".parquet"):
                found.append(name)
        return found

    def move_into(self, staged: str, final: str) -> int:
        """Move every data file under ``staged`` to the same place under ``final``."""
        staged_root = self.qualified(staged)
        moved = 0
        for name in self.data_files(staged):
            target = self._path(final.rstrip("/") + name[len(staged_root) :])
            self._fs.mkdirs(target.getParent())
            if not self._fs.rename(self._path(name), target):
                raise OSError(f"cannot move {name} to {target.toString()}")
            moved += 1
        return moved
