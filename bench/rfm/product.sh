#!/usr/bin/env bash
# The product's own nightly full scores rebuild (`quanyu scores rebuild`: RFM, lifecycle stage
# and computed tags of every live customer) on SQLite, over a generated history: a
# `quanyu demo --members 1000` database plus CUSTOMERS customers and ORDERS single-line orders
# (bench/rfm/product_population.py; 3 % cancelled, 1 % unpaid, 6 % refunded, over the 730 days
# before AT). Made once per size under $BENCH_WORK and reused; each run starts from a copy.
# Three rebuilds on one copy: the first (every row new), the same night again (nothing changed)
# and the next night (AT + 1 day: the window slides). Prints each one's seconds (and CPU
# seconds, steadier on a shared machine) and the command's peak RSS, with the rebuild's own
# read / score split.
# Usage: bench/rfm/product.sh   (env: QUANYU_BIN=<a built quanyu> CUSTOMERS=1000000 ORDERS=10000000
#        AT=2025-12-04T00:00:00Z BENCH_WORK=/tmp/quanyu-bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/quanyu-bin.sh
source bench/rfm/population.sh
RUN=$BENCH_WORK/rfm-product-run
rm -rf "$RUN"; mkdir -p "$RUN"
cp "$POPULATION/quanyu.db" "$RUN/quanyu.db"
NEXT=$(date -u -d "${AT%Z} UTC + 1 day" +%Y-%m-%dT%H:%M:%SZ)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
for night in "first $AT" "again $AT" "next $NEXT"; do
  set -- $night
  /usr/bin/time -f "%e %M %U %S" -o "$RUN/time" env RUST_LOG=info \
    "$BIN" scores rebuild --database "sqlite://$RUN/quanyu.db" --at "$2" > "$RUN/out" 2> "$RUN/log"
  read -r seconds kib user sys < "$RUN/time"
  split=$(sed "s/\x1b\[[0-9;]*m//g" "$RUN/log" | grep -o 'written=[0-9]* read_s=[0-9.]* scored_s=[0-9.]*' | tail -1 || true)
  cpu=$(echo "$user + $sys" | bc)
  printf '%-6s %s  %7.2f s  (CPU %6.2f s)  peak RSS %5d MiB  (%s)\n' "$1" "$2" "$seconds" "$cpu" $((kib / 1024)) "$split"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
