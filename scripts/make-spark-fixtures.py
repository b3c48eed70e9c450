"""Writes the small real Spark ALSModel saves of test/fixtures/spark-als/ with the installed pyspark.

    python3 -m pip install pyspark==3.5.7
    python3 scripts/make-spark-fixtures.py test/fixtures/spark-als

Each save is exactly what ALSModel.write().save() wrote (Hadoop .crc side files and _SUCCESS markers
included), from seeded synthetic ratings: the repository carries no third-party data. The estimator that
trained it is saved in its `estimator/` folder (its training parameters, for fold-in), and the ratings
it was trained on beside it as `<folder>.ratings.csv` (user,item,rating), so tests can fold in every
training user and compare with the user factor Spark computed.
"""
import csv
import random
import sys
import zlib
from pathlib import Path

from pyspark.ml.recommendation import ALS
from pyspark.sql import SparkSession


def session() -> SparkSession:
    return (
        SparkSession.builder.master("local[2]")
        .appName("recserve-fixtures")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )


def save(spark: SparkSession, als: ALS, rows: list, columns: list, out: Path) -> None:
    """Fits, saves the model, its estimator inside it, and the ratings beside it."""
    als.fit(spark.createDataFrame(rows, columns)).write().overwrite().save(str(out))
    als.write().overwrite().save(str(out / "estimator"))
    with open(f"{out}.ratings.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["user", "item", "rating"])
        writer.writerows(rows)


def explicit(spark: SparkSession, out: Path) -> None:
    """300 users x 500 items, 1-5 star ratings on about 8% of the pairs, positive ids, rank 10."""
    rnd = random.Random(7)
    rows = [(u, i, float(rnd.randint(1, 5))) for u in range(1, 301) for i in range(1, 501) if rnd.random() < 0.08]
    als = ALS(rank=10, maxIter=5, regParam=0.1, userCol="userId", itemCol="movieId", ratingCol="rating", seed=42)
    save(spark, als, rows, ["userId", "movieId", "rating"], out)


def implicit(spark: SparkSession, out: Path) -> None:
    """120 users x 400 items, play counts (some zero or negative: Spark's extension), rank 8, alpha 2."""
    rnd = random.Random(13)
    rows = [(u, i, float(rnd.choice([-1, 0, 1, 2, 3, 5, 8]))) for u in range(120) for i in range(400) if rnd.random() < 0.06]
    als = ALS(rank=8, maxIter=5, regParam=0.05, implicitPrefs=True, alpha=2.0, userCol="user", itemCol="item", ratingCol="plays", seed=42)
    save(spark, als, rows, ["user", "item", "plays"], out)


def hashed(spark: SparkSession, out: Path) -> None:
    """5 users x 2,000 items with hashed ids spread over the whole int32 range (negatives too), implicit
    feedback and nonnegative factors (many exact zeros, so exact score ties), rank 3. Five users in
    Spark's ten user blocks leave user partitions empty: fewer user part files than item part files."""
    rnd = random.Random(11)
    items = [zlib.crc32(f"track-{n}".encode()) - 2**31 for n in range(2000)]
    rows = [(u, item, float(rnd.randint(1, 20))) for u in range(5) for item in items if rnd.random() < 0.3]
    als = ALS(rank=3, maxIter=5, implicitPrefs=True, nonnegative=True, userCol="user", itemCol="track", ratingCol="plays", seed=42)
    save(spark, als, rows, ["user", "track", "plays"], out)


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/spark-als")
    spark = session()
    version = spark.version
    for name, rank, write in (("explicit", 10, explicit), ("implicit", 8, implicit), ("hashed", 3, hashed)):
        out = root / f"{name}-spark{version}-rank{rank}"
        write(spark, out)
        print(f"wrote {out}")
    spark.stop()


if __name__ == "__main__":
    main()
