"""The Spark side of the integration suite: trains and saves real ALS models and writes what Spark itself
says about them, for test/integration/spark.integration.ts to compare recserve against.

    python3 spark_job.py <out-dir> [feed-dir]

Writes under <out-dir>:
  <kind>/save/                  ALSModel.write().save() for kind in explicit, implicit, nonnegative,
                                with the estimator that trained it in <kind>/save/estimator/
  ratings.csv                   the ratings every kind was trained on: user,item,rating
  <kind>/top10.json             recommendForAllUsers(10): {user: [[item, rating], ...]}
  <kind>/predictions.json       transform() of every (user, item) pair of top10: [[user, item, prediction], ...]
  reduced/save/                 explicit ALS trained without the users whose id is divisible by 7
  recs-parquet/                 the full explicit model's recommendForAllUsers(10), as Spark writes parquet
  buckets.csv                   the README's Spark SQL bucket query over 100,000 ids (multi-byte ones too)
  ids.csv                       those ids, one per line with a user_id header
and, with [feed-dir], an explicit model saved by Spark straight into <feed-dir>/als/v1/<update id>/ followed
by an empty _SUCCESS, as a training job publishing to a running server would.
"""
import csv
import json
import random
import sys
import time
from pathlib import Path

from pyspark.ml.recommendation import ALS
from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def session() -> SparkSession:
    return (
        SparkSession.builder.master("local[2]")
        .appName("recserve-integration")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )


def ratings(spark: SparkSession, seed: int):
    """400 users x 600 items with int ids, a quarter of them negative (as hashed ids are)."""
    rnd = random.Random(seed)
    users = [u if u % 4 else -u for u in range(1, 401)]
    items = [i * 7919 if i % 4 else -(i * 7919) for i in range(1, 601)]
    rows = [(u, i, float(rnd.randint(1, 5))) for u in users for i in items if rnd.random() < 0.05]
    return spark.createDataFrame(rows, ["user", "item", "rating"])


KINDS = {
    "explicit": dict(rank=8, maxIter=8, regParam=0.1),
    "implicit": dict(rank=8, maxIter=8, regParam=0.1, implicitPrefs=True),
    "nonnegative": dict(rank=6, maxIter=8, regParam=0.1, nonnegative=True),
}


def estimator(**params) -> ALS:
    return ALS(userCol="user", itemCol="item", ratingCol="rating", seed=42, **params)


def fit(df, **params):
    return estimator(**params).fit(df)


def describe(model, out: Path) -> None:
    top = model.recommendForAllUsers(10)
    rows = top.select("user", F.explode("recommendations").alias("r")).select("user", "r.item", "r.rating")
    by_user = {}
    for row in rows.collect():
        by_user.setdefault(str(row.user), []).append([row.item, row.rating])
    (out / "top10.json").write_text(json.dumps(by_user))
    pairs = rows.select("user", "item")
    predictions = model.transform(pairs).select("user", "item", "prediction").collect()
    (out / "predictions.json").write_text(json.dumps([[r.user, r.item, r.prediction] for r in predictions]))


def buckets(spark: SparkSession, out: Path) -> None:
    rnd = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789éüß天地人こんにちは🙂"
    ids = [str(i) for i in range(50_000)] + ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12))) for _ in range(50_000)]
    with open(out / "ids.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["user_id"])
        writer.writerows([i] for i in ids)
    spark.createDataFrame([(i,) for i in ids], ["user_id"]).createOrReplaceTempView("users")
    result = spark.sql(
        """
        SELECT user_id,
               pmod(hash(concat('2026-11', ':', user_id)), 10000) AS bucket,
               CASE WHEN pmod(hash(concat('2026-11', ':', user_id)), 10000) < 5000 THEN 'control'
                    WHEN pmod(hash(concat('2026-11', ':', user_id)), 10000) < 9000 THEN 'rerank'
                    ELSE 'popular' END AS variant
        FROM users
        """
    ).collect()
    with open(out / "buckets.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["user_id", "bucket", "variant"])
        writer.writerows([r.user_id, r.bucket, r.variant] for r in result)


def main() -> None:
    out = Path(sys.argv[1])
    feed = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    spark = session()
    spark.sparkContext.setLogLevel("ERROR")
    df = ratings(spark, 1).cache()
    with open(out / "ratings.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["user", "item", "rating"])
        writer.writerows((r.user, r.item, r.rating) for r in df.collect())
    for kind, params in KINDS.items():
        als = estimator(**params)
        model = als.fit(df)
        model.write().overwrite().save(str(out / kind / "save"))
        als.write().overwrite().save(str(out / kind / "save" / "estimator"))
        describe(model, out / kind)
    explicit = fit(df, **KINDS["explicit"])
    explicit.recommendForAllUsers(10).write.mode("overwrite").parquet(str(out / "recs-parquet"))
    reduced = fit(df.where(F.col("user") % 7 != 0), **KINDS["explicit"])
    reduced.write().overwrite().save(str(out / "reduced" / "save"))
    buckets(spark, out)
    if feed is not None:
        update = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = feed / "als" / "v1" / update
        explicit.write().save(str(target))
        (target / "_SUCCESS").write_text("")
        (out / "published.txt").write_text(update)
    (out / "spark-version.txt").write_text(spark.version)
    spark.stop()


if __name__ == "__main__":
    main()
