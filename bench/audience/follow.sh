#!/usr/bin/env bash
# How the product's audience index follows its database (`quanyu bench audience-follow`), on
# SQLite, over the generated population of bench/rfm/population.sh (default 1M customers, 10M
# orders): a copy scored as of AT (`quanyu scores rebuild`), then in one process the first count
# (every member read), points given to TOUCH members and the catch-up after them, the next night's
# scores rebuild (AT + 1 day) and the catch-up after it, and a check that the caught-up index
# counts what a second instance reading every member counts. Prints each step's seconds, CPU
# seconds and resident memory, and the command's peak RSS.
# Usage: bench/audience/follow.sh   (env: QUANYU_BIN=<a built quanyu> CUSTOMERS=1000000
#        ORDERS=10000000 AT=2025-12-04T00:00:00Z TOUCH=1000 BENCH_WORK=/tmp/quanyu-bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/quanyu-bin.sh
source bench/rfm/population.sh
TOUCH=${TOUCH:-1000}
RUN=$BENCH_WORK/audience-follow-run
rm -rf "$RUN"; mkdir -p "$RUN"
cp "$POPULATION/quanyu.db" "$RUN/quanyu.db"
NEXT=$(date -u -d "${AT%Z} UTC + 1 day" +%Y-%m-%dT%H:%M:%SZ)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
"$BIN" scores rebuild --database "sqlite://$RUN/quanyu.db" --at "$AT" >&2
/usr/bin/time -f "%e %M" -o "$RUN/time" \
  "$BIN" bench audience-follow --database "sqlite://$RUN/quanyu.db" --night "$NEXT" --touch "$TOUCH"
read -r seconds kib < "$RUN/time"
echo "whole run ${seconds} s, peak RSS $((kib / 1024)) MiB"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
