"""RFM + lifecycle full-rebuild peers for bench/rfm/run.sh, over the files `quanyu bench-data` writes.

    peers.py duckdb DATA OUT [REPEAT]    the rebuild as one SQL statement, into a table
    peers.py polars DATA OUT [REPEAT]    the rebuild as one lazy Polars query, collected
    peers.py check DATA QUANYU OUT...    every engine's scores against Quanyu's (exit 1 on a difference)

The rules are the product's defaults (quanyu_audience::lifecycle: RfmBins, LifecycleRules): the
window is the 365 days up to the scoring day; recency scores 5/4/3/2/1 at ≤7/30/90/180 days and 0
without an order in the window; frequency 10/5/3/2 orders; monetary ¥2,000/1,000/500/200; stages
introduction (no order, registered ≤30 days ago), silence (no order, ≤180 days), churned, then
by days since the last order: churned >180, silence >120, decline >60, maturity with ≥3 orders,
else growth. Each engine writes score_{r,f,m,stage}.u8, score_orders.u32, score_spend.u64 to OUT.
"""

import json
import os
import sys
import time

import numpy as np

WINDOW_DAYS = 365
RECENCY = [7, 30, 90, 180]
FREQUENCY = [10, 5, 3, 2]
MONETARY = [200_000, 100_000, 50_000, 20_000]
STAGES = ["introduction", "growth", "maturity", "decline", "silence", "churned"]
MATURITY_ORDERS, DECLINE, SILENCE, CHURNED, INTRODUCTION = 3, 60, 120, 180, 30


def load(data):
    with open(os.path.join(data, "manifest.json")) as f:
        manifest = json.load(f)
    read = lambda name, dtype: np.fromfile(os.path.join(data, name), dtype=dtype)  # noqa: E731
    orders = {
        "customer": read("order_customer.u32", "<u4"),
        "day": read("order_day.u16", "<u2"),
        "amount": read("order_amount.u32", "<u4"),
    }
    registered = read("customer_registered_day.u16", "<u2")
    return manifest, orders, registered


def write(out, columns):
    os.makedirs(out, exist_ok=True)
    for name, dtype in [("r", "u1"), ("f", "u1"), ("m", "u1"), ("stage", "u1"), ("orders", "<u4"),
                        ("spend", "<u8")]:
        suffix = {"u1": "u8", "<u4": "u32", "<u8": "u64"}[dtype]
        np.asarray(columns[name]).astype(dtype).tofile(os.path.join(out, f"score_{name}.{suffix}"))


def sql_score(value, thresholds, at_most):
    op = "<=" if at_most else ">="
    cases = " ".join(f"WHEN {value} {op} {t} THEN {5 - i}" for i, t in enumerate(thresholds))
    return f"CASE {cases} ELSE 1 END"


def run_duckdb(data, out, repeat):
    import duckdb

    manifest, orders, registered = load(data)
    today = manifest["today"]
    con = duckdb.connect()
    con.register("orders_np", orders)
    con.execute("CREATE TABLE orders AS SELECT * FROM orders_np")
    con.unregister("orders_np")
    con.register("customers_np", {"customer": np.arange(len(registered), dtype=np.uint32),
                                  "registered": registered})
    con.execute("CREATE TABLE customers AS SELECT * FROM customers_np")
    con.unregister("customers_np")
    since = f"(today - last_day)"
    stage = (f"CASE WHEN last_day IS NULL THEN (CASE WHEN today - registered <= {INTRODUCTION} THEN 0 "
             f"WHEN today - registered <= {CHURNED} THEN 4 ELSE 5 END) "
             f"WHEN {since} > {CHURNED} THEN 5 WHEN {since} > {SILENCE} THEN 4 WHEN {since} > {DECLINE} THEN 3 "
             f"WHEN orders >= {MATURITY_ORDERS} THEN 2 ELSE 1 END")
    query = f"""
        CREATE OR REPLACE TABLE scores AS
        WITH tally AS (
            SELECT customer, count(*) AS orders, sum(amount) AS spend, max(day) AS last_day
            FROM orders WHERE day >= {today - WINDOW_DAYS} GROUP BY customer),
        joined AS (
            SELECT c.customer, c.registered, {today} AS today, coalesce(t.orders, 0) AS orders,
                   coalesce(t.spend, 0) AS spend, t.last_day
            FROM customers c LEFT JOIN tally t USING (customer))
        SELECT customer,
               CASE WHEN last_day IS NULL THEN 0 ELSE {sql_score(f"greatest({since}, 0)", RECENCY, True)} END AS r,
               {sql_score("orders", FREQUENCY, False)} AS f,
               {sql_score("spend", MONETARY, False)} AS m,
               {stage} AS stage, orders, spend
        FROM joined"""
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        con.execute(query)
        seconds.append(time.perf_counter() - start)
    result = con.execute("SELECT * FROM scores ORDER BY customer").fetchnumpy()
    write(out, result)
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(json.dumps({"engine": "duckdb", "version": duckdb.__version__, "threads": threads, "seconds": seconds,
                      "best_seconds": min(seconds), "median_seconds": sorted(seconds)[len(seconds) // 2]}))


def run_polars(data, out, repeat):
    import polars as pl

    manifest, orders, registered = load(data)
    today = manifest["today"]
    frame = pl.DataFrame(orders)
    customers = pl.DataFrame({"customer": np.arange(len(registered), dtype=np.uint32), "registered": registered})

    def score(value, thresholds, at_most):
        expr = pl.lit(1, pl.UInt8)
        for i, t in reversed(list(enumerate(thresholds))):
            hit = value <= t if at_most else value >= t
            expr = pl.when(hit).then(pl.lit(5 - i, pl.UInt8)).otherwise(expr)
        return expr

    def query():
        tally = (frame.lazy().filter(pl.col("day") >= today - WINDOW_DAYS).group_by("customer")
                 .agg(pl.len().alias("orders"), pl.col("amount").cast(pl.UInt64).sum().alias("spend"),
                      pl.col("day").max().alias("last_day")))
        since = (pl.lit(today, pl.Int32) - pl.col("last_day").cast(pl.Int32)).clip(lower_bound=0)
        since_registered = pl.lit(today, pl.Int32) - pl.col("registered").cast(pl.Int32)
        never = (pl.when(since_registered <= INTRODUCTION).then(0)
                 .when(since_registered <= CHURNED).then(4).otherwise(5))
        ordered = (pl.when(since > CHURNED).then(5).when(since > SILENCE).then(4).when(since > DECLINE).then(3)
                   .when(pl.col("orders") >= MATURITY_ORDERS).then(2).otherwise(1))
        return (customers.lazy().join(tally, on="customer", how="left")
                .with_columns(pl.col("orders").fill_null(0), pl.col("spend").fill_null(0))
                .select("customer",
                        pl.when(pl.col("last_day").is_null()).then(pl.lit(0, pl.UInt8))
                        .otherwise(score(since, RECENCY, True)).alias("r"),
                        score(pl.col("orders"), FREQUENCY, False).alias("f"),
                        score(pl.col("spend"), MONETARY, False).alias("m"),
                        pl.when(pl.col("last_day").is_null()).then(never).otherwise(ordered).alias("stage"),
                        "orders", "spend")
                .collect())

    seconds, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = query()
        seconds.append(time.perf_counter() - start)
    result = result.sort("customer")
    write(out, {name: result[name].to_numpy() for name in ["r", "f", "m", "stage", "orders", "spend"]})
    print(json.dumps({"engine": "polars", "version": pl.__version__, "threads": pl.thread_pool_size(),
                      "seconds": seconds, "best_seconds": min(seconds),
                      "median_seconds": sorted(seconds)[len(seconds) // 2]}))


def check(data, quanyu, others):
    read = lambda d, n, t: np.fromfile(os.path.join(d, n), dtype=t)  # noqa: E731
    columns = [("score_r.u8", "u1"), ("score_f.u8", "u1"), ("score_m.u8", "u1"), ("score_stage.u8", "u1"),
               ("score_orders.u32", "<u4"), ("score_spend.u64", "<u8")]
    ok = True
    stage = read(quanyu, "score_stage.u8", "u1")
    print("stages: " + ", ".join(f"{name} {int((stage == i).sum()):,}" for i, name in enumerate(STAGES)))
    for other in others:
        for name, dtype in columns:
            mine, theirs = read(quanyu, name, dtype), read(other, name, dtype)
            differ = int((mine != theirs).sum()) if len(mine) == len(theirs) else -1
            if differ:
                ok = False
                print(f"{other}: {name} differs for {differ:,} customers (-1: lengths differ)")
    print("scores: " + ("every engine agrees with Quanyu on every customer" if ok else "MISMATCH"))
    return 0 if ok else 1


def main():
    command = sys.argv[1]
    if command == "duckdb":
        run_duckdb(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 3)
    elif command == "polars":
        run_polars(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 3)
    elif command == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4:]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
