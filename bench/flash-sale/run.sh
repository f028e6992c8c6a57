#!/usr/bin/env bash
# Flash-sale reservations per second on one hot SKU, durable, measured side by side in one run:
#   (a) PostgreSQL, one guarded transaction per request (pgbench, synchronous_commit=on)
#   (b) SQLite, one guarded transaction per request (Python), synchronous FULL and NORMAL
#   (c) Redis Lua check-and-decrement, appendfsync always and no persistence
#   (d) Quanyu's batched engine in process, on SQLite and PostgreSQL (then the journal is
#       materialised into reservation rows and the books checked)
#   (e) Quanyu over HTTP on SQLite, driven by wrk, with p50/p99; then the same server answering
#       a 404 (routing, middleware, a JSON error; no reservation): what this machine's HTTP over
#       loopback allows at all, the ceiling (e) is measured against
# Then the ratios, and an oversell check on every Quanyu run.
# Usage: bench/flash-sale/run.sh   (env: QUANYU_BIN=<a built quanyu> SECONDS_EACH=10 CONNS=64 REQUESTS=50000 INPROC=400000 BUYERS=4096 RUSHES=3)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${SECONDS_EACH:-10}
CONNS=${CONNS:-64}
REQUESTS=${REQUESTS:-50000}
INPROC=${INPROC:-400000}
BUYERS=${BUYERS:-4096}
RUSHES=${RUSHES:-3}
PG=${PG:-postgres://postgres@127.0.0.1:5432}

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
source bench/quanyu-bin.sh
WORK=$(mktemp -d)
cleanup() {
  redis-cli -p 6390 shutdown nosave >/dev/null 2>&1 || true
  redis-cli -p 6391 shutdown nosave >/dev/null 2>&1 || true
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Writes the page cache back before each measured part, so that one part's writeback (gigabytes
# of written-out pages, for ingest) does not land in the next part's figures.
settle() { sync; sleep 1; }
fresh_pg() { psql "$PG/postgres" -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null; }

echo "(a) PostgreSQL, one transaction per request…" >&2
fresh_pg quanyu_bench_peer
psql "$PG/quanyu_bench_peer" -qc "CREATE TABLE hot (id int PRIMARY KEY, quota bigint, sold bigint); INSERT INTO hot VALUES (1, 1000000000, 0)"
printf 'BEGIN;\nUPDATE hot SET sold = sold + 1 WHERE id = 1 AND sold + 1 <= quota;\nCOMMIT;\n' > "$WORK/reserve.sql"
settle
PG_TX=$(pgbench -n -c "$CONNS" -j 2 -T "$SECONDS_EACH" -f "$WORK/reserve.sql" "$PG/quanyu_bench_peer" 2>/dev/null | awk '/^tps = /{printf "%.0f", $3; exit}')

echo "(b) SQLite, one transaction per request…" >&2
settle
SQLITE_FULL=$(python3 bench/flash-sale/sqlite_peer.py "$WORK/peer-full.db" FULL "$SECONDS_EACH")
settle
SQLITE_NORMAL=$(python3 bench/flash-sale/sqlite_peer.py "$WORK/peer-normal.db" NORMAL "$SECONDS_EACH")

echo "(c) Redis Lua…" >&2
redis-server --port 6390 --bind 127.0.0.1 --appendonly yes --appendfsync always --save "" --dir "$WORK" --daemonize yes --logfile "$WORK/r1.log"
redis-server --port 6391 --bind 127.0.0.1 --appendonly no --save "" --dir "$WORK" --daemonize yes --logfile "$WORK/r2.log"
sleep 1
LUA='local s = tonumber(redis.call("GET", KEYS[1])); if s and s >= 1 then redis.call("DECRBY", KEYS[1], 1); return 1 end; return 0'
redis_rps() {
  redis-cli -p "$1" SET stock 1000000000 >/dev/null
  redis-benchmark -p "$1" -c "$CONNS" -n $((REQUESTS * 4)) -q EVAL "$LUA" 1 stock \
    | grep -oE '[0-9.]+ requests per second' | tail -n 1 | cut -d' ' -f1 | cut -d. -f1
}
settle
REDIS_ALWAYS=$(redis_rps 6390)
REDIS_NONE=$(redis_rps 6391)

echo "(d) Quanyu in process…" >&2
# A rush's rate on this machine swings with its CPU per reservation from one minute to the next
# (see bench/RESULTS.md), so SQLite's is RUSHES rushes, each on a fresh database: the median is
# reported, and every one is printed and checked.
Q_SQLITE=
for rush in $(seq 1 "$RUSHES"); do
  settle
  Q_SQLITE+="$($BIN bench flash-sale --database "sqlite://$WORK/inproc-$rush.db" --requests "$INPROC" --concurrency "$BUYERS" 2>/dev/null)"$'\n'
done
fresh_pg quanyu_bench_inproc
settle
Q_PG=$($BIN bench flash-sale --database "$PG/quanyu_bench_inproc" --requests "$INPROC" --concurrency "$BUYERS" 2>/dev/null)

echo "(e) Quanyu over HTTP…" >&2
SEED=$($BIN bench flash-sale --database "sqlite://$WORK/http.db" --requests 100000000 --seed-only 2>/dev/null)
export SALE_ID=$(echo "$SEED" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sale_id"])')
export TOKEN=$(echo "$SEED" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
RUST_LOG=warn $BIN serve --database "sqlite://$WORK/http.db" --bind 127.0.0.1:18091 >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18091/healthz >/dev/null && break; sleep 0.1; done
settle
WRK=$(wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" --latency -s bench/flash-sale/reserve.lua http://127.0.0.1:18091)
HTTP_RPS=$(echo "$WRK" | awk '/Requests\/sec/{printf "%.0f", $2}')
HTTP_P50=$(echo "$WRK" | awk '$1=="50%"{print $2}')
HTTP_P99=$(echo "$WRK" | awk '$1=="99%"{print $2}')
HTTP_ERRORS=$(echo "$WRK" | awk '/Non-2xx/{print $5}')
settle
FLOOR=$(wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" http://127.0.0.1:18091/api/v1/no-such-route | awk '/Requests\/sec/{printf "%.0f", $2}')
SOLD=$(curl -s "http://127.0.0.1:18091/api/v1/flash-sales/$SALE_ID" -H "authorization: Bearer $TOKEN" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["sold"], d["quota"])')
SOUND=$(curl -s http://127.0.0.1:18091/api/v1/inventory/reconcile -H "authorization: Bearer $TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sound"])')

python3 - "$PG_TX" "$SQLITE_FULL" "$SQLITE_NORMAL" "$REDIS_ALWAYS" "$REDIS_NONE" "$Q_SQLITE" "$Q_PG" "$HTTP_RPS" "$HTTP_P50" "$HTTP_P99" "${HTTP_ERRORS:-0}" "$SOLD" "$SOUND" "$FLOOR" <<'PY'
import json, sys
pg, s_full, s_normal, r_always, r_none, q_sqlite, q_pg, http, p50, p99, errors, sold, sound, floor = sys.argv[1:]
rushes = sorted((json.loads(line) for line in q_sqlite.splitlines() if line.strip()), key=lambda q: q["per_second"])
q_sqlite, q_pg = rushes[len(rushes) // 2], json.loads(q_pg)
sold, quota = map(int, sold.split())
rows = [
    ("(a) PostgreSQL, 1 tx/request (pgbench)", float(pg)),
    ("(b) SQLite, 1 tx/request, synchronous=FULL", float(s_full)),
    ("(b) SQLite, 1 tx/request, synchronous=NORMAL", float(s_normal)),
    ("(c) Redis Lua, appendfsync always", float(r_always)),
    ("(c) Redis Lua, no persistence", float(r_none)),
    (f"(d) Quanyu batched, in process, SQLite, median of {len(rushes)} (p99 {q_sqlite['p99_ms']:.1f} ms, {q_sqlite['cpu_us_per_reservation']:.2f} µs CPU each)", q_sqlite["per_second"]),
    (f"(d) Quanyu batched, in process, PostgreSQL (p99 {q_pg['p99_ms']:.1f} ms, {q_pg['cpu_us_per_reservation']:.2f} µs CPU each)", q_pg["per_second"]),
    (f"(e) Quanyu over HTTP, SQLite (wrk: p50 {p50}, p99 {p99})", float(http)),
    ("(e) the same server answering a 404, no reservation (the HTTP ceiling here)", float(floor)),
]
print("| run | reservations/s |")
print("|---|---:|")
for name, value in rows:
    print(f"| {name} | {value:,.0f} |")
print()
print(f"(e) / (a) PostgreSQL per request: {float(http) / float(pg):.2f}x")
print(f"(e) / (c) Redis appendfsync always: {float(http) / float(r_always):.2f}x")
print(f"(e) / the 404 ceiling: {float(http) / float(floor):.2f}x; the ceiling / (c) Redis appendfsync always: {float(floor) / float(r_always):.2f}x")
print(f"(d) SQLite / (b) SQLite FULL: {q_sqlite['per_second'] / float(s_full):.2f}x")
print("(d) SQLite, every rush: " + ", ".join(
    f"{q['per_second']:,.0f}/s ({q['cpu_us_per_reservation']:.2f} µs CPU: {q['user_us_per_reservation']:.2f} user, {q['system_us_per_reservation']:.2f} kernel; {q['minor_faults']:,} page faults)" for q in rushes))
print(f"(d) SQLite / 1,000,000 target: {q_sqlite['per_second'] / 1e6:.2f}x; (e) / 40,000 target: {float(http) / 40000:.2f}x")
for name, q in (("SQLite", q_sqlite), ("PostgreSQL", q_pg)):
    print(f"(d) {name}: {q['reserved']:,} reservations in {q['journal_records']:,} journal records "
          f"({q['reserved'] / max(q['journal_records'], 1):.0f} per record); materialised afterwards in "
          f"{q['materialize_seconds']:.1f} s ({q['reserved'] / max(q['materialize_seconds'], 1e-9):,.0f} rows/s); "
          f"books agree: {q['books_agree']}, ledger sound: {q['ledger_sound']}")
for q in rushes:
    if q["oversold"] or not q["books_agree"] or not q["ledger_sound"]:
        print(f"a SQLite rush oversold or its books disagree: {q}")
print(f"oversell: in-process SQLite {any(q['oversold'] for q in rushes)}, PostgreSQL {q_pg['oversold']}; HTTP sold {sold} of quota {quota} -> {sold > quota}; ledger sound: {sound}; HTTP non-2xx: {errors}")
PY
