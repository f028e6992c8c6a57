#!/usr/bin/env bash
# Event ingest, durable, over HTTP in batches of 100 (the Segment spec's /v1/batch), measured
# side by side in one run with PostgreSQL's own bulk path:
#   (a) Quanyu on SQLite (WAL, synchronous=NORMAL: acknowledged after commit, survives kill -9), driven by wrk
#   (b) Quanyu on PostgreSQL, driven by wrk
#   (c) psql \copy of the same rows into Quanyu's own table on PostgreSQL (a freshly migrated database)
# Prints events/s, p50/p99 per request, the server's peak memory, the ratios and a count check.
# Usage: bench/ingest/run.sh   (env: QUANYU_BIN=<a built quanyu> SECONDS_EACH=10 CONNS=32 BATCH=100 COPY_ROWS=1000000 RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${SECONDS_EACH:-10}
CONNS=${CONNS:-32}
export BATCH=${BATCH:-100}
COPY_ROWS=${COPY_ROWS:-1000000}
RUNS=${RUNS:-3}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PASSWORD=bench-ingest-1

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
source bench/quanyu-bin.sh
WORK=$(mktemp -d)
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
# Writes the page cache back before each measured part, so that one part's writeback (gigabytes
# of written-out pages, for ingest) does not land in the next part's figures.
settle() { sync; sleep 1; }
fresh_pg() { psql "$PG/postgres" -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null; }

# Starts a server on $1 (a database URL) and port $2, with an admin and an event source;
# sets SERVER and WRITE_KEY_BASIC.
serve() {
  printf 'username,display_name,role,password\nboss,Boss,hq_admin,%s\n' "$PASSWORD" > "$WORK/staff.csv"
  RUST_LOG=warn $BIN import staff "$WORK/staff.csv" --database "$1" >/dev/null 2>&1
  RUST_LOG=warn $BIN serve --database "$1" --bind "127.0.0.1:$2" >/dev/null 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && break; sleep 0.1; done
  local token key
  token=$(curl -s "http://127.0.0.1:$2/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"login\":\"boss\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  key=$(curl -s "http://127.0.0.1:$2/api/v1/event-sources" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["write_key"])')
  export WRITE_KEY_BASIC="Basic $(printf '%s:' "$key" | base64 -w0)"
}

# Runs wrk against port $1; prints "events/s p50 p99 peak_kib non2xx".
measure() {
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" --latency -s bench/ingest/batch.lua "http://127.0.0.1:$1")
  local rps p50 p99 errors peak
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  p50=$(echo "$out" | awk '$1=="50%"{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/{print $5}')
  peak=$(awk '/VmHWM/{print $2}' "/proc/$SERVER/status")
  python3 -c "print(round(float('$rps') * $BATCH), '$p50', '$p99', '$peak', '${errors:-0}')"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# SQLite's rate swings by some 10 % from one run to the next on this machine, so it is RUNS runs,
# each a fresh server and database file: the median is reported, every one printed and counted.
A_ALL=
for run in $(seq 1 "$RUNS"); do
  echo "(a) Quanyu on SQLite, run $run of $RUNS…" >&2
  serve "sqlite://$WORK/ingest-$run.db" 18101
  settle
  A_RUN=$(measure 18101)
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
  A_ALL+="$A_RUN $(python3 -c "import sqlite3; print(sqlite3.connect('$WORK/ingest-$run.db').execute('select count(*) from customer_events').fetchone()[0])")"$'\n'
  rm -f "$WORK/ingest-$run.db"*
done

echo "(b) Quanyu on PostgreSQL…" >&2
fresh_pg quanyu_bench_ingest
serve "$PG/quanyu_bench_ingest" 18102
settle
B=$(measure 18102)
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
B_STORED=$(psql "$PG/quanyu_bench_ingest" -Atc 'select count(*) from customer_events')

echo "(c) psql \\copy of $COPY_ROWS rows…" >&2
# The rows wrk sends, as Quanyu stores them: time-ordered ids (Quanyu's are UUIDv7), messageIds as
# analytics-node makes them ("node-next-<ms>-<uuid v4>", a millisecond per 250 rows), one of
# 100,000 random visitor UUIDs each, the properties as sent; copied into the very table Quanyu
# writes (a freshly migrated database: same columns, constraints and indexes).
python3 - "$WORK/events.csv" "$COPY_ROWS" <<'PY'
import random, sys, uuid
path, rows = sys.argv[1], int(sys.argv[2])
source = "00000000-0000-7000-8000-000000000002"
rng = random.Random(20261205)
visitors = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(100000)]
with open(path, "w") as f:
    for i in range(rows):
        message_id = f"node-next-{1764892800000 + i // 250}-{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        f.write(f'{uuid.UUID(int=(0x019ae0 << 104) | i)},{source},{message_id},track,Product Viewed,,{rng.choice(visitors)},,,"{{""sku"":""SKU{i % 2000}"",""price"":1290}}",{{}},{{}},2026-12-01 00:00:00+00,2026-12-01 00:00:00+00\n')
PY
fresh_pg quanyu_bench_copy
RUST_LOG=warn $BIN migrate --database "$PG/quanyu_bench_copy" >/dev/null 2>&1
psql "$PG/quanyu_bench_copy" -q -v ON_ERROR_STOP=1 -c "INSERT INTO event_sources (id, name, key_hash, created_at) VALUES ('00000000-0000-7000-8000-000000000002', 'copy', 'copy', now())"
settle
START=$(date +%s.%N)
psql "$PG/quanyu_bench_copy" -q -v ON_ERROR_STOP=1 -c "\\copy customer_events (id, source_id, message_id, kind, name, user_id, anonymous_id, previous_id, customer_id, properties, traits, context, occurred_at, received_at) FROM '$WORK/events.csv' WITH (FORMAT csv)"
END=$(date +%s.%N)
C=$(python3 -c "print(round($COPY_ROWS / ($END - $START)))")

echo "load average before the run: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
python3 - "$A_ALL" "$B" "$C" "$B_STORED" <<'PY'
import sys
runs = sorted((line.split() for line in sys.argv[1].splitlines() if line.strip()), key=lambda r: int(r[0]))
a, b, c, b_stored = runs[len(runs) // 2], sys.argv[2].split(), int(sys.argv[3]), int(sys.argv[4])
a_stored = ", ".join(f"{int(r[5]):,}" for r in runs)
print(f"{'':44} {'events/s':>10} {'p50':>9} {'p99':>9} {'peak RSS':>10}")
a_label = f"(a) Quanyu /v1/batch on SQLite, median of {len(runs)}"
for label, r in ((a_label, a), ("(b) Quanyu /v1/batch on PostgreSQL", b)):
    print(f"{label:44} {int(r[0]):>10,} {r[1]:>9} {r[2]:>9} {int(r[3]) // 1024:>7} MiB   non-2xx {r[4]}")
copy_label = "(c) psql \\copy into PostgreSQL"
print(f"{copy_label:44} {c:>10,}")
print()
print("(a) every run, events/s: " + ", ".join(f"{int(r[0]):,}" for r in runs))
print(f"(a) / (c) = {int(a[0]) / c:.2f}x    (b) / (c) = {int(b[0]) / c:.2f}x    target: >= 0.6x and >= 250,000 events/s")
print(f"stored: SQLite {a_stored}, PostgreSQL {b_stored:,} (every acknowledged event once)")
PY
