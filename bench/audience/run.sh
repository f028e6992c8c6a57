#!/usr/bin/env bash
# Audience counts (人群圈选), measured side by side on the same synthetic population:
#   Quanyu     `quanyu bench audience`: the product's AudienceIndex built from the files, each
#              expression parsed and evaluated by the real parser and evaluator, in process
#   pyroaring  the same bitmap algebra over the same bitmaps (CRoaring), in process
#   DuckDB     the same predicate in SQL over a (member_id, tag_id) table (at SMALL_MEMBERS only)
# at MEMBERS (40M: Quanyu and pyroaring) and SMALL_MEMBERS (10M: all three), 3,000 Zipf tags, ~80
# tags per member. Prints p50/p95 warm per expression, the ratios, the tag index's memory, and
# fails if the engines' counts differ. Then Quanyu ranks the 100 members most like the members of
# each of LOOKALIKE_SEEDS (lookalike, 精准获客; no peer does this). The pieces run one after
# another (peak memory ~8 GiB).
# Usage: bench/audience/run.sh   (env: QUANYU_BIN=<a built quanyu> MEMBERS=40000000 SMALL_MEMBERS=10000000 TAGS=3000
#        TAGS_PER_MEMBER=80 REPEAT=30 DUCKDB_REPEAT=5 BENCH_WORK=/tmp/quanyu-bench SHARDS=1 LOOKALIKE_SEEDS=3b,10a)
#        SHARDS > 1 cuts Quanyu's index by ordinal range and counts the shards on one thread each;
#        pyroaring and DuckDB are unchanged (pyroaring single-threaded, DuckDB on its own threads).
set -euo pipefail
cd "$(dirname "$0")/../.."
MEMBERS=${MEMBERS:-40000000}
SMALL_MEMBERS=${SMALL_MEMBERS:-10000000}
TAGS=${TAGS:-3000}
TAGS_PER_MEMBER=${TAGS_PER_MEMBER:-80}
REPEAT=${REPEAT:-30}
DUCKDB_REPEAT=${DUCKDB_REPEAT:-5}
SHARDS=${SHARDS:-1}
LOOKALIKE_SEEDS=${LOOKALIKE_SEEDS:-3b,10a}
source bench/quanyu-bin.sh
source bench/python-env.sh
PEERS=bench/audience/peers.py
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2

BIG=$BENCH_WORK/audience-$MEMBERS
SMALL=$BENCH_WORK/audience-$SMALL_MEMBERS
OUT=$BENCH_WORK/audience-results
rm -rf "$OUT"; mkdir -p "$OUT/big" "$OUT/small"
$PY $PEERS expressions > "$OUT/expressions.tsv"

# Each engine in its own process, one after another; /usr/bin/time's peak RSS goes to stderr.
peak() { /usr/bin/time -f "$1 peak RSS %M KiB, %e s wall" "${@:2}"; }
for size in big small; do
  if [ $size = big ]; then dir=$BIG; members=$MEMBERS; else dir=$SMALL; members=$SMALL_MEMBERS; fi
  bench_data "$dir" --members "$members" --tags "$TAGS" --tags-per-member "$TAGS_PER_MEMBER" --customers 0 --order-lines 0
  echo "Quanyu, $members members…" >&2
  peak "quanyu $size" $BIN bench audience --data "$dir" --expressions "$OUT/expressions.tsv" --repeat "$REPEAT" \
    --shards "$SHARDS" --lookalike-seeds "$LOOKALIKE_SEEDS" > "$OUT/$size/quanyu.jsonl"
  echo "pyroaring, $members members…" >&2
  peak "pyroaring $size" $PY $PEERS pyroaring "$dir" "$REPEAT" > "$OUT/$size/pyroaring.jsonl"
  if [ $size = small ]; then
    echo "DuckDB, $members members…" >&2
    peak "duckdb $size" $PY $PEERS duckdb "$dir" "$DUCKDB_REPEAT" > "$OUT/$size/duckdb.jsonl"
  fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
$PY $PEERS report "$OUT/big" "$OUT/small"
