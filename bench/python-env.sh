# Sourced by bench/*/run.sh: a Python venv with the peers (pyroaring, duckdb, polars, numpy) under
# $BENCH_WORK (never in the repository), created on first use; sets PY.
BENCH_WORK=${BENCH_WORK:-/tmp/quanyu-bench}
mkdir -p "$BENCH_WORK"
if [ ! -x "$BENCH_WORK/venv/bin/python" ]; then
  python3 -m venv "$BENCH_WORK/venv"
  "$BENCH_WORK/venv/bin/pip" install -q pyroaring duckdb polars numpy
fi
PY="$BENCH_WORK/venv/bin/python"

# Generates `quanyu bench-data` into $1 with the remaining arguments, unless $1 already holds
# exactly that (the generator is deterministic, so the files would be the same).
bench_data() {
  local dir=$1; shift
  if [ -f "$dir/manifest.json" ] && [ "$(cat "$dir/.args" 2>/dev/null)" = "$*" ]; then
    echo "reusing $dir (bench-data $*)" >&2
  else
    rm -rf "$dir"
    echo "generating $dir (bench-data $*)…" >&2
    "$BIN" bench-data --out "$dir" "$@" >&2
    echo "$*" > "$dir/.args"
  fi
}
