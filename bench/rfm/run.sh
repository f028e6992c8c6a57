#!/usr/bin/env bash
# RFM + lifecycle full rebuild over ORDER_LINES paid orders into CUSTOMERS customers, side by side
# on the same synthetic orders with the same bins and rules:
#   Quanyu  `quanyu bench rfm`: quanyu_audience::rebuild (columnar tally, then the product's own
#           assess() per customer), in process, one Rebuilder kept across the runs (the first
#           run faults its buffers in, the later ones reuse them; every run is printed);
#           also the incremental per-order step
#   DuckDB  one SQL statement (GROUP BY customer, LEFT JOIN customers, CASE rules) into a table
#   Polars  the same as one lazy query, collected
# Prints each engine's best of REPEAT and the ratios, and fails unless every engine gives every
# customer the same R, F, M, stage, order count and spend.
# Usage: bench/rfm/run.sh   (env: QUANYU_BIN=<a built quanyu> CUSTOMERS=10000000 ORDER_LINES=100000000 REPEAT=3 BENCH_WORK=/tmp/quanyu-bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
CUSTOMERS=${CUSTOMERS:-10000000}
ORDER_LINES=${ORDER_LINES:-100000000}
REPEAT=${REPEAT:-3}
source bench/quanyu-bin.sh
source bench/python-env.sh
PEERS=bench/rfm/peers.py
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2

DATA=$BENCH_WORK/rfm-$CUSTOMERS-$ORDER_LINES
OUT=$BENCH_WORK/rfm-results
rm -rf "$OUT"; mkdir -p "$OUT"
bench_data "$DATA" --members 0 --tags 0 --customers "$CUSTOMERS" --order-lines "$ORDER_LINES"

peak() { /usr/bin/time -f "$1 peak RSS %M KiB, %e s wall" "${@:2}"; }
echo "Quanyu…" >&2
Q=$(peak quanyu $BIN bench rfm --data "$DATA" --repeat "$REPEAT" --scores-out "$OUT/quanyu")
echo "DuckDB…" >&2
D=$(peak duckdb $PY $PEERS duckdb "$DATA" "$OUT/duckdb" "$REPEAT")
echo "Polars…" >&2
P=$(peak polars $PY $PEERS polars "$DATA" "$OUT/polars" "$REPEAT")
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

$PY - "$Q" "$D" "$P" <<'PYEOF'
import json, sys
q, d, p = (json.loads(x) for x in sys.argv[1:4])
print(f"{q['order_lines']:,} order lines into {q['customers']:,} customers (best of {len(q['seconds'])}):")
print(f"  Quanyu  {q['best_seconds']:.3f} s  ({q['threads']} threads; runs {', '.join(f'{s:.3f}' for s in q['seconds'])})")
print(f"  DuckDB  {d['best_seconds']:.3f} s  ({d['version']}, {d['threads']} threads; runs {', '.join(f'{s:.3f}' for s in d['seconds'])})")
print(f"  Polars  {p['best_seconds']:.3f} s  ({p['version']}, {p['threads']} threads; runs {', '.join(f'{s:.3f}' for s in p['seconds'])})")
print(f"ratios: DuckDB/Quanyu = {d['best_seconds'] / q['best_seconds']:.2f}x, Polars/Quanyu = {p['best_seconds'] / q['best_seconds']:.2f}x")
print(f"incremental: {q['incremental_ns_per_order']:.0f} ns per order over {q['customers']:,} customers, "
      f"{q['incremental_ns_per_order_1000_customers']:.0f} ns over 1,000 ({q['incremental_orders']:,} orders each)")
PYEOF
$PY $PEERS check "$DATA" "$OUT/quanyu" "$OUT/duckdb" "$OUT/polars"
