"""Audience-count peers for bench/audience/run.sh, over the files `quanyu bench-data` writes.

    peers.py expressions                 the expression set, as `name<TAB>expression` for Quanyu
    peers.py pyroaring DATA [REPEAT]     the same bitmap algebra with pyroaring (CRoaring)
    peers.py duckdb DATA [REPEAT]        the same predicate in SQL over a (member_id, tag_id) table
    peers.py report BIG SMALL            figures, ratios and the count check (exit 1 on a mismatch)

Every engine prints one JSON line per expression (name, count, p50_ms, p95_ms) and a summary
line. The expressions are defined once here as small trees and rendered for each engine, so they
are the same predicate everywhere; their semantics are Quanyu's: members without a value match no
comparison, and NOT is everyone else.
"""

import array
import bisect
import json
import math
import os
import sys
import time

import numpy as np

NO_LAST_ORDER = 65535
BINS = 16  # quanyu_audience::bsi::bins::BINS


# -- the expressions -----------------------------------------------------------------------------

def tag(t):
    return ("tag", t)


def cat(field, *values):
    return ("in", field, values) if len(values) > 1 else ("eq", field, values[0])


def ne(field, value):
    return ("ne", field, value)


def num(field, op, value):
    return ("num", field, op, value)


def NOT(e):
    return ("not", e)


def AND(*es):
    return ("and", es)


def OR(*es):
    return ("or", es)


EXPRESSIONS = [  # names start with the number of terms (leaf predicates)
    # 3 terms
    ("3a popular tags", AND(tag(3), tag(40), NOT(tag(7)))),
    ("3b stage+region+tag", AND(cat("stage", "maturity"), cat("region", "east"), tag(12))),
    ("3c any of three top tags", OR(tag(0), tag(1), tag(2))),
    ("3d points+tier+tag", AND(num("points", ">=", 5000), cat("tier", "gold", "platinum"), tag(100))),
    ("3e lapsed, not tagged", AND(num("last_order_days", ">", 30), num("m", ">=", 3), NOT(tag(5)))),
    ("3f three rare tags", OR(AND(tag(500), tag(900)), tag(1500))),
    # 10 terms
    ("10a campaign", AND(
        OR(tag(0), tag(1)), tag(10), NOT(tag(20)), cat("stage", "maturity", "growth"), cat("region", "east"),
        num("points", ">=", 1000), ne("tier", "normal"), tag(150), num("last_order_days", "<=", 60))),
    ("10b win-back", AND(
        cat("stage", "decline", "silence"), num("f", ">=", 3), num("m", ">=", 2), OR(tag(4), tag(8), tag(15)),
        NOT(OR(tag(6), tag(60))), num("points", ">", 200), cat("region", "east", "south"))),
    ("10c wide or", OR(
        AND(tag(0), tag(1)), AND(tag(2), tag(3)), AND(tag(50), num("r", ">=", 4)),
        AND(tag(200), cat("tier", "platinum")), tag(1000), tag(2000))),
    ("10d many tags", AND(
        tag(0), tag(1), tag(2), tag(3), tag(4), tag(5), NOT(tag(6)), NOT(tag(7)), tag(8), tag(9))),
    ("10e rare and dense", AND(
        OR(tag(300), tag(301), tag(302), tag(303), tag(304)), tag(0), NOT(tag(1)),
        num("spend_365d", "between", (50_000, 500_000)), cat("home_store", "S001", "S002", "S003", "S004"),
        ne("stage", "churned"))),
]


def terms(e):
    kind = e[0]
    if kind in ("and", "or"):
        return sum(terms(x) for x in e[1])
    if kind == "not":
        return terms(e[1])
    return 1


def render(e, top=True):
    """Quanyu's expression language (quanyu_audience::expr)."""
    kind = e[0]
    if kind == "tag":
        return f"#t{e[1]}"
    if kind == "eq":
        return f"{e[1]} = {e[2]}"
    if kind == "ne":
        return f"{e[1]} != {e[2]}"
    if kind == "in":
        return f"{e[1]} in ({', '.join(e[2])})"
    if kind == "num":
        if e[2] == "between":
            return f"{e[1]} between {e[3][0]} and {e[3][1]}"
        return f"{e[1]} {e[2]} {e[3]}"
    if kind == "not":
        return f"not ({render(e[1], False)})"
    joined = f" {kind} ".join(render(x, False) for x in e[1])
    return joined if top else f"({joined})"


# -- files ---------------------------------------------------------------------------------------

def manifest(data):
    with open(os.path.join(data, "manifest.json")) as f:
        return json.load(f)


def column(data, name, dtype):
    return np.fromfile(os.path.join(data, name), dtype=dtype)


CATEGORICAL = {  # field -> (file, dtype, manifest list of names)
    "tier": ("member_tier.u8", "<u1", "tiers"),
    "home_store": ("member_home_store.u16", "<u2", "stores"),
    "region": ("member_region.u8", "<u1", "regions"),
    "stage": ("member_stage.u8", "<u1", "stages"),
}
NUMERIC = {  # field -> (file, dtype)
    "points": ("member_points.u32", "<u4"),
    "spend_365d": ("member_spend_365d.u32", "<u4"),
    "orders_365d": ("member_orders_365d.u16", "<u2"),
    "r": ("member_r.u8", "<u1"),
    "f": ("member_f.u8", "<u1"),
    "m": ("member_m.u8", "<u1"),
    "last_order_days": ("member_last_order_days.u16", "<u2"),
}


def quantile(sorted_times, q):
    rank = min(max(math.ceil(q * len(sorted_times)), 1), len(sorted_times))
    return sorted_times[rank - 1]


def timed(run, name, count_of, warmup, repeat):
    times, count = [], None
    for i in range(warmup + repeat):
        start = time.perf_counter()
        result = count_of()
        elapsed = (time.perf_counter() - start) * 1e3
        if count is not None and result != count:
            raise SystemExit(f"{run} {name}: the count changed between runs")
        count = result
        if i >= warmup:
            times.append(elapsed)
    times.sort()
    return {"name": name, "count": int(count), "p50_ms": quantile(times, 0.5), "p95_ms": quantile(times, 0.95)}, times


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# -- pyroaring -----------------------------------------------------------------------------------

def run_pyroaring(data, repeat):
    from pyroaring import BitMap

    def bitmap(sorted_u32):
        values = array.array("I")
        values.frombytes(memoryview(np.ascontiguousarray(sorted_u32, dtype="<u4").view(np.uint8)))
        return BitMap(values)

    m = manifest(data)
    started = time.perf_counter()
    before = rss_kib()
    offsets = column(data, "tag_offsets.u64", "<u8")
    members = np.memmap(os.path.join(data, "tag_members.u32"), dtype="<u4", mode="r")
    tags = [bitmap(members[offsets[t]:offsets[t + 1]]) for t in range(len(offsets) - 1)]
    del members
    tags_rss = rss_kib() - before
    everyone = BitMap()
    everyone.add_range(0, m["members"])
    categorical = {}
    for field, (name, dtype, names) in CATEGORICAL.items():
        codes = column(data, name, dtype)
        categorical[field] = {value: bitmap(np.flatnonzero(codes == code)) for code, value in enumerate(m[names])}
    present = {field: BitMap.union(*values.values()) for field, values in categorical.items()}
    numeric = {}
    for field, (name, dtype) in NUMERIC.items():
        values = column(data, name, dtype).astype(np.uint64)
        has_value = values != NO_LAST_ORDER if field == "last_order_days" else np.ones(len(values), bool)
        width = int(values[has_value].max()).bit_length() if has_value.any() else 0
        slices = [bitmap(np.flatnonzero(has_value & ((values >> np.uint64(b)) & np.uint64(1)).astype(bool)))
                  for b in range(width)]
        # The same range-encoded bins as quanyu_audience::bsi::bins: boundaries at the i/BINS
        # quantiles (the rank-th smallest value, ranks from 1), below the maximum, distinct; one
        # bitmap of the members at most each boundary.
        sorted_values = np.sort(values[has_value])
        boundaries = []
        for i in range(1, BINS):
            boundary = int(sorted_values[max(len(sorted_values) * i // BINS, 1) - 1]) if len(sorted_values) else None
            if boundary is not None and boundary < int(sorted_values[-1]) and boundary not in boundaries[-1:]:
                boundaries.append(boundary)
        at_most = [bitmap(np.flatnonzero(has_value & (values <= np.uint64(b)))) for b in boundaries]
        numeric[field] = (bitmap(np.flatnonzero(has_value)), slices, boundaries, at_most)
    load_seconds = time.perf_counter() - started

    # Members as (bitmap, owned), as quanyu_audience::narrow: a bitmap of the index (borrowed) is
    # never copied to be narrowed; the first narrowing builds a new one from it, later ones work
    # in place.
    def intersect(c, x):
        if c[1]:
            c[0].__iand__(x)
            return c
        return (c[0] & x, True)

    def subtract(c, x):
        if c[1]:
            c[0].__isub__(x)
            return c
        return (c[0] - x, True)

    def nobody():
        return (BitMap(), True)

    # The same algebra as quanyu_audience::bsi::compare: over everyone without bins `x > c` is one
    # in-place operation per slice from the least significant up; among candidates the slices
    # are walked from the most significant bit where the bin's bounds differ down; `=`
    # intersects the slices of c's 1 bits and subtracts those of its 0 bits; with bins, two
    # cumulative bitmaps settle every candidate outside the probe's bin first.
    def containing(field, value):
        """The bin `value` falls in: (largest boundary below it, smallest at or above it), each
        as (boundary, members at most it) or None."""
        boundaries, at_most = numeric[field][2], numeric[field][3]
        split = bisect.bisect_left(boundaries, value)
        below = (boundaries[split - 1], at_most[split - 1]) if split > 0 else None
        above = (boundaries[split], at_most[split]) if split < len(boundaries) else None
        return below, above

    def keep_with_value(field, c):
        # A field covering one run of ordinals keeps every candidate inside it untouched.
        existence = numeric[field][0]
        if not existence:
            return nobody()
        first, last = existence.min(), existence.max()
        if len(existence) != last - first + 1:
            return intersect(c, existence)
        if c[0] and (c[0].min() < first or c[0].max() > last):
            bm = c[0] if c[1] else c[0].copy()
            bm.remove_range(0, first)
            bm.remove_range(last + 1, 2 ** 32)
            return (bm, True)
        return c

    def greater_within(field, value, candidates, low, high):
        slices = numeric[field][1]
        undecided, greater = (candidates, False), BitMap()
        for bit in reversed(range(min((low ^ high).bit_length(), len(slices)))):
            if not undecided[0]:
                break
            ones = undecided[0] & slices[bit]
            if value >> bit & 1:
                undecided = (ones, True)
            else:
                undecided = subtract(undecided, ones)
                greater |= ones
        return greater

    def greater_by_slices(field, value, c):
        existence, slices = numeric[field][0], numeric[field][1]
        if c[0] is not existence:
            return greater_within(field, value, c[0], 0, 2 ** 64 - 1)
        greater = None
        for bit, s in enumerate(slices):
            if value >> bit & 1:
                if greater is not None:
                    greater &= s
            elif greater is None:
                greater = s.copy()
            else:
                greater |= s
        return greater if greater is not None else BitMap()

    def greater_than(field, value, c):
        if value.bit_length() > len(numeric[field][1]):
            return nobody()
        if not numeric[field][2]:
            return (greater_by_slices(field, value, c), True)
        below, above = containing(field, value + 1)
        if below is not None:
            c = subtract(c, below[1])
            if below[0] == value:
                return c
        if not c[0]:
            return c
        low = below[0] + 1 if below is not None else 0
        if above is None:
            return (greater_within(field, value, c[0], low, 2 ** 64 - 1), True)
        in_bin = c[0] & above[1]
        c = subtract(c, in_bin)
        greater = c[0] if c[1] else c[0].copy()
        greater |= greater_within(field, value, in_bin, low, above[0])
        return (greater, True)

    def at_most(field, value, c):
        if not c[0] or value.bit_length() > len(numeric[field][1]):
            return c
        if not numeric[field][2]:
            return subtract(c, greater_than(field, value, (c[0], False))[0])
        below, above = containing(field, value + 1)
        if below is not None and below[0] == value:
            return intersect(c, below[1])
        high = 2 ** 64 - 1
        if above is not None:
            c = intersect(c, above[1])
            high = above[0]
        if below is not None:
            greater = greater_within(field, value, c[0] - below[1], below[0] + 1, high)
        else:
            greater = greater_within(field, value, c[0], 0, high)
        return subtract(c, greater) if greater else c

    def equal_to(field, value, c):
        if value.bit_length() > len(numeric[field][1]):
            return nobody()
        if not numeric[field][2]:
            return (equal_by_slices(field, value, c), True)
        # Only the members of value's bin walk the slices, and none when the bin holds value alone.
        below, above = containing(field, value)
        if above is not None:
            c = intersect(c, above[1])
        if below is not None:
            c = subtract(c, below[1])
        alone = above is not None and above[0] == value and (below[0] + 1 == value if below is not None else value == 0)
        return c if alone or not c[0] else (equal_by_slices(field, value, c), True)

    def equal_by_slices(field, value, c):
        slices = numeric[field][1]
        ones = [s for bit, s in enumerate(slices) if value >> bit & 1]
        zeros = [s for bit, s in enumerate(slices) if not value >> bit & 1]
        if ones:
            c = intersect(c, ones[0])
        equal = c[0] if c[1] else c[0].copy()
        for s in ones[1:]:
            equal &= s
        for s in zeros:
            if not equal:
                break
            equal -= s
        return equal

    def compare_in(field, op, value, c):
        if op == ">":
            return greater_than(field, value, c)
        if op == ">=":
            return greater_than(field, value - 1, c) if value > 0 else c
        if op == "<=":
            return at_most(field, value, c)
        if op == "<":
            return at_most(field, value - 1, c) if value > 0 else nobody()
        if op == "=":
            return equal_to(field, value, c)
        return subtract(c, equal_to(field, value, (c[0], False))[0])

    def between_in(field, low, high, c):
        if low > high:
            return nobody()
        return at_most(field, high, compare_in(field, ">=", low, c))

    def everyone_with_value(field):
        return (numeric[field][0], False)

    def restrict(field, c, among, in_full):
        # Among the candidates when the bins settle most of them or they are few (Quanyu's
        # restrict), else in full and intersected.
        if not c[0]:
            return c
        if not numeric[field][2] and len(c[0]) * 16 >= len(numeric[field][0]):
            return intersect(c, in_full())
        return among(keep_with_value(field, c))

    def retain_number(e, c):
        field = e[1]
        if e[2] == "between":
            low, high = e[3]
            return restrict(field, c, lambda w: between_in(field, low, high, w),
                            lambda: between_in(field, low, high, everyone_with_value(field))[0])
        return restrict(field, c, lambda w: compare_in(field, e[2], e[3], w),
                        lambda: compare_in(field, e[2], e[3], everyone_with_value(field))[0])

    def members(e):
        kind = e[0]
        if kind == "tag":
            return (tags[e[1]], False)
        if kind == "eq":
            equal = categorical[e[1]].get(e[2])
            return (equal, False) if equal is not None else nobody()
        if kind == "ne":
            return (present[e[1]] - categorical[e[1]].get(e[2], BitMap()), True)
        if kind == "in":
            return (BitMap.union(*(categorical[e[1]].get(v, BitMap()) for v in e[2])), True)
        if kind == "num":
            if e[2] == "between":
                return between_in(e[1], e[3][0], e[3][1], everyone_with_value(e[1]))
            return compare_in(e[1], e[2], e[3], everyone_with_value(e[1]))
        if kind == "not":
            return remove(e[1], (everyone, False))
        if kind == "or":
            return (BitMap.union(*(members(x)[0] for x in e[1])), True)
        return and_of(e[1])

    # The same plan as Quanyu's evaluator (quanyu_audience::eval): one result, narrowed in
    # place: set operands ordered by a size bound read off the bitmaps, the smallest the start
    # (the index's own bitmap until the first narrowing builds the result from it) and the
    # others intersected in that order (a union much larger than the result intersected part by
    # part), then negated sets subtracted one by one (`not (a or b)` subtracts a, then b), then
    # comparisons among the members left, then negated comparisons.
    def stage(x):
        if x[0] == "not":
            return 3 if x[1][0] == "num" else 1
        return 2 if x[0] == "num" else 0

    def estimate(e):
        kind = e[0]
        if kind == "tag":
            return len(tags[e[1]])
        if kind == "eq":
            return len(categorical[e[1]].get(e[2], BitMap()))
        if kind == "ne":
            return len(present[e[1]])
        if kind == "in":
            return sum(len(categorical[e[1]].get(v, BitMap())) for v in e[2])
        if kind == "or":
            return sum(estimate(x) for x in e[1])
        if kind == "and":
            return min(estimate(x) for x in e[1])
        return len(everyone)

    def and_of(operands):
        order = sorted(operands, key=lambda x: (stage(x), estimate(x) if stage(x) == 0 else 0))
        first = next((i for i, x in enumerate(order) if stage(x) in (0, 2)), None)
        result = members(order.pop(first)) if first is not None else (everyone, False)
        for x in order:
            result = retain(x, result)
        return result

    def retain(e, c):
        if not c[0]:
            return c
        kind = e[0]
        if kind == "num":
            return retain_number(e, c)
        if kind == "not":
            return remove(e[1], c)
        if kind == "and":
            for x in e[1]:
                c = retain(x, c)
            return c
        if kind == "ne":
            c = intersect(c, present[e[1]])
            equal = categorical[e[1]].get(e[2])
            return subtract(c, equal) if equal is not None else c
        if kind in ("in", "or") and estimate(e) > len(c[0]) * 4:
            if kind == "in":
                parts = [c[0] & categorical[e[1]].get(v, BitMap()) for v in e[2]]
            else:
                parts = [retain(x, (c[0], False))[0] for x in e[1]]
            return (BitMap.union(*parts), True)
        return intersect(c, members(e)[0])

    def remove(e, c):
        """c minus e's members."""
        if not c[0]:
            return c
        kind = e[0]
        if kind == "or":
            for x in e[1]:
                c = remove(x, c)
            return c
        if kind == "not":
            return retain(e[1], c)
        if kind == "num":
            return subtract(c, retain_number(e, (c[0], False))[0])
        return subtract(c, members(e)[0])

    def evaluate(e):
        return members(e)[0]

    all_times = []
    for name, e in EXPRESSIONS:
        line, times = timed("pyroaring", name, lambda: len(evaluate(e)), 3, repeat)
        all_times += times
        print(json.dumps(line), flush=True)
    all_times.sort()
    tag_bytes = sum(b.get_serialized_size_in_bytes() if hasattr(b, "get_serialized_size_in_bytes")
                    else len(b.serialize()) for b in tags)
    print(json.dumps({"summary": True, "members": m["members"], "load_seconds": load_seconds,
                      "tag_index_bytes": tag_bytes, "tag_index_rss_kib": tags_rss, "rss_kib": rss_kib(),
                      "p50_ms": quantile(all_times, 0.5), "p95_ms": quantile(all_times, 0.95)}), flush=True)


# -- DuckDB --------------------------------------------------------------------------------------

def sql(e, m):
    kind = e[0]
    if kind == "tag":
        return f"member_id IN (SELECT member_id FROM member_tags WHERE tag_id = {e[1]})"
    if kind in ("eq", "ne", "in"):
        names = m[CATEGORICAL[e[1]][2]]
        if kind == "in":
            return f"{e[1]} IN ({', '.join(str(names.index(v)) for v in e[2])})"
        return f"{e[1]} {'=' if kind == 'eq' else '<>'} {names.index(e[2])}"
    if kind == "num":
        if e[2] == "between":
            return f"coalesce({e[1]} BETWEEN {e[3][0]} AND {e[3][1]}, false)"
        op = "<>" if e[2] == "!=" else e[2]
        return f"coalesce({e[1]} {op} {e[3]}, false)"
    if kind == "not":
        return f"NOT ({sql(e[1], m)})"
    return "(" + f" {kind.upper()} ".join(sql(x, m) for x in e[1]) + ")"


def run_duckdb(data, repeat):
    import duckdb

    m = manifest(data)
    # A database file next to the data: DuckDB compresses it on disk and queries it through its
    # buffer pool, so the 800M-row table stays within a few GiB.
    path = os.path.join(os.path.dirname(os.path.abspath(data)), "duckdb-audience.db")
    for stale in (path, path + ".wal"):
        if os.path.exists(stale):
            os.remove(stale)
    con = duckdb.connect(path)
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET memory_limit = '4GB'")
    started = time.perf_counter()
    offsets = column(data, "tag_offsets.u64", "<u8")
    member_tags = {
        "member_id": column(data, "tag_members.u32", "<u4"),
        "tag_id": np.repeat(np.arange(len(offsets) - 1, dtype=np.uint16), np.diff(offsets).astype(np.int64)),
    }
    con.register("member_tags_np", member_tags)
    # Rows ordered by tag, as generated: each tag's rows are one run, so DuckDB's zone maps
    # skip the rest when a query asks for one tag.
    con.execute("CREATE TABLE member_tags AS SELECT * FROM member_tags_np")
    con.unregister("member_tags_np")
    del member_tags
    columns = {"member_id": np.arange(m["members"], dtype=np.uint32)}
    for field, (name, dtype, _) in CATEGORICAL.items():
        columns[field] = column(data, name, dtype)
    for field, (name, dtype) in NUMERIC.items():
        columns[field] = column(data, name, dtype)
    con.register("members_np", columns)
    con.execute("CREATE TABLE members AS SELECT * EXCLUDE (last_order_days), "
                f"CASE WHEN last_order_days = {NO_LAST_ORDER} THEN NULL ELSE last_order_days END AS last_order_days "
                "FROM members_np")
    con.unregister("members_np")
    del columns
    con.execute("CHECKPOINT")
    load_seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM member_tags").fetchone()[0]
    memory = con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]

    all_times = []
    for name, e in EXPRESSIONS:
        query = f"SELECT count(*) FROM members WHERE {sql(e, m)}"
        line, times = timed("duckdb", name, lambda: con.execute(query).fetchone()[0], 1, repeat)
        all_times += times
        print(json.dumps(line), flush=True)
    all_times.sort()
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.close()
    file_bytes = os.path.getsize(path)
    os.remove(path)
    print(json.dumps({"summary": True, "members": m["members"], "member_tag_rows": rows, "file_bytes": file_bytes,
                      "load_seconds": load_seconds, "duckdb_memory_bytes": memory, "rss_kib": rss_kib(),
                      "threads": threads,
                      "p50_ms": quantile(all_times, 0.5), "p95_ms": quantile(all_times, 0.95)}), flush=True)


# -- report --------------------------------------------------------------------------------------

def read_run(path):
    lines, summary, lookalikes = {}, {}, []
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for raw in f:
            raw = raw.strip()
            if not raw.startswith("{"):
                continue
            line = json.loads(raw)
            if line.get("summary"):
                summary = line
            elif "lookalike" in line:
                lookalikes.append(line)
            else:
                lines[line["name"]] = line
    return {"lines": lines, "summary": summary, "lookalikes": lookalikes}


def report(big, small):
    runs = {
        "big": {engine: read_run(os.path.join(big, f"{engine}.jsonl")) for engine in ("quanyu", "pyroaring")},
        "small": {engine: read_run(os.path.join(small, f"{engine}.jsonl"))
                  for engine in ("quanyu", "pyroaring", "duckdb")},
    }
    failed = False
    for size, engines in runs.items():
        present = {k: v for k, v in engines.items() if v}
        quanyu = present.get("quanyu")
        if not quanyu:
            print(f"{size}: no Quanyu run")
            failed = True
            continue
        members = quanyu["summary"].get("members")
        print(f"\n== {members:,} members ==")
        header = f"{'expression':28} {'terms':>5} {'count':>12}" + "".join(
            f" {engine + ' p50/p95 ms':>26}" for engine in present)
        print(header)
        for name, e in EXPRESSIONS:
            counts = {engine: run["lines"].get(name, {}).get("count") for engine, run in present.items()}
            mismatch = len(set(counts.values())) != 1
            failed |= mismatch
            cells = "".join(
                f" {run['lines'][name]['p50_ms']:>12.3f}/{run['lines'][name]['p95_ms']:<12.3f}"
                if name in run["lines"] else f" {'-':>26}" for run in present.values())
            print(f"{name:28} {terms(e):>5} {counts['quanyu'] or 0:>12,}{cells}"
                  + (f"   COUNTS DIFFER: {counts}" if mismatch else ""))
        for engine, run in present.items():
            s = run["summary"]
            print(f"{engine:10} all expressions: p50 {s.get('p50_ms', 0):.3f} ms, p95 {s.get('p95_ms', 0):.3f} ms; "
                  f"load {s.get('load_seconds', 0):.1f} s; RSS {s.get('rss_kib', 0) / 1024:,.0f} MiB"
                  + (f"; tag index {s['tag_index_bytes'] / 2**20:,.0f} MiB serialized, "
                     f"{s['tag_index_rss_kib'] / 1024:,.0f} MiB resident" if "tag_index_bytes" in s else "")
                  + (f"; DuckDB buffers {s['duckdb_memory_bytes'] / 2**20:,.0f} MiB, file "
                     f"{s['file_bytes'] / 2**20:,.0f} MiB, {s['member_tag_rows']:,} rows, {s['threads']} threads"
                     if "duckdb_memory_bytes" in s else ""))
        for found in quanyu["lookalikes"]:
            best = found.get("best") or {}
            print(f"quanyu lookalike of {found['lookalike']} ({found['seed_members']:,} members): the best "
                  f"{found['ranked']} in {found['p50_ms']:,.0f} ms p50 (CPU {found['cpu_p50_ms']:,.0f} ms); "
                  f"first: {', '.join(best.get('features', []))}")
        q95 = quanyu["summary"]["p95_ms"]
        for engine, run in present.items():
            if engine == "quanyu":
                continue
            p95 = run["summary"]["p95_ms"]
            print(f"ratio {engine} p95 / quanyu p95 = {p95 / q95:.2f}x "
                  f"(per expression, p50: " + ", ".join(
                      f"{run['lines'][n]['p50_ms'] / quanyu['lines'][n]['p50_ms']:.2f}x"
                      for n, _ in EXPRESSIONS if n in run["lines"] and n in quanyu["lines"]) + ")")
    print("\ncounts: " + ("MISMATCH between engines" if failed else "every engine returned the same counts"))
    return 1 if failed else 0


def main():
    command = sys.argv[1]
    if command == "expressions":
        for name, e in EXPRESSIONS:
            print(f"{name}\t{render(e)}")
    elif command == "pyroaring":
        run_pyroaring(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 30)
    elif command == "duckdb":
        run_duckdb(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5)
    elif command == "report":
        sys.exit(report(sys.argv[2], sys.argv[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
