# Sourced by the benchmarks over the product's own database (bench/rfm/product.sh,
# bench/audience/follow.sh): makes, once per size under $BENCH_WORK, a `quanyu demo --members
# 1000` database plus CUSTOMERS customers and ORDERS single-line orders (3 % cancelled, 1 % unpaid,
# 6 % refunded, over the 730 days before AT; bench/rfm/product_population.py), and sets
# POPULATION to its directory (quanyu.db in it, never written by a run). Needs BIN.
CUSTOMERS=${CUSTOMERS:-1000000}
ORDERS=${ORDERS:-10000000}
AT=${AT:-2025-12-04T00:00:00Z}
BENCH_WORK=${BENCH_WORK:-/tmp/quanyu-bench}
POPULATION=$BENCH_WORK/rfm-product-$CUSTOMERS-$ORDERS
if [ "$(cat "$POPULATION/.args" 2>/dev/null)" != "$AT" ]; then
  rm -rf "$POPULATION"; mkdir -p "$POPULATION"
  echo "generating $POPULATION…" >&2
  "$BIN" demo --data "$POPULATION/demo" --members 1000 --no-serve > /dev/null
  sqlite3 "$POPULATION/demo/quanyu.db" "PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
  cp "$POPULATION/demo/quanyu.db" "$POPULATION/quanyu.db"
  python3 bench/rfm/product_population.py "$POPULATION/quanyu.db" "$CUSTOMERS" "$ORDERS" "${AT%%T*}"
  echo "$AT" > "$POPULATION/.args"
fi
