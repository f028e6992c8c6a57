"""Adds a generated population to a Quanyu SQLite database (one `quanyu demo` made), for the
product's own full scores rebuild (`quanyu scores rebuild`, measured by bench/rfm/product.sh):
CUSTOMERS customers registered over ~2.5 years, and ORDERS single-line orders over the 730 days
before END (3 % cancelled, 1 % unpaid, 6 % refunded in whole or in part, the rest completed),
each of a random customer and a random SKU of the demo's catalogue. Ids are time-ordered UUIDv7,
timestamps are written as the product writes them (RFC 3339, `+00:00`), and rows go in in time
order, as a live system would have written them. Deterministic for a seed.

Usage: product_population.py DB [CUSTOMERS=1000000] [ORDERS=10000000] [END=2025-12-04]
"""

import datetime
import random
import sqlite3
import sys

DB = sys.argv[1]
CUSTOMERS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
ORDERS = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000_000
END = datetime.datetime.fromisoformat(sys.argv[4] if len(sys.argv) > 4 else "2025-12-04").replace(
    tzinfo=datetime.timezone.utc
)
BATCH = 100_000

rng = random.Random(20261205)
end = int(END.timestamp())
orders_from = end - 730 * 86_400
customers_from = orders_from - 180 * 86_400


def uuid7(seconds):
    """A UUIDv7 of the given second (random milliseconds within it), as 16 bytes."""
    ms = seconds * 1000 + rng.randrange(1000)
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return value.to_bytes(16, "big")


_days = {}


def stamp(seconds):
    """`seconds` as sqlx writes a UTC timestamp (whole seconds)."""
    day, rest = divmod(seconds, 86_400)
    prefix = _days.get(day)
    if prefix is None:
        prefix = _days[day] = datetime.datetime.fromtimestamp(day * 86_400, datetime.timezone.utc).strftime("%Y-%m-%d")
    return f"{prefix}T{rest // 3600:02}:{rest // 60 % 60:02}:{rest % 60:02}+00:00"


db = sqlite3.connect(DB)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = OFF")
db.execute("PRAGMA cache_size = -262144")
stores = [row[0] for row in db.execute("SELECT id FROM stores ORDER BY code")]
skus = list(db.execute("SELECT id, name, base_price FROM skus WHERE base_price > 0 ORDER BY code"))
(ordinal,) = db.execute("SELECT COALESCE(MAX(ordinal), 0) FROM customers").fetchone()
if not stores or not skus:
    sys.exit("the database has no stores or SKUs: run `quanyu demo` on it first")

# Customers, registered in time order.
registered = sorted(rng.randrange(customers_from, end - 86_400) for _ in range(CUSTOMERS))
customer_ids = []
rows = []
for at in registered:
    ordinal += 1
    cid = uuid7(at)
    customer_ids.append(cid)
    rows.append((cid, ordinal, f"顾客{ordinal}", rng.choice(stores), stamp(at), stamp(at)))
    if len(rows) == BATCH:
        db.executemany(
            "INSERT INTO customers (id, ordinal, display_name, home_store_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        rows.clear()
db.executemany(
    "INSERT INTO customers (id, ordinal, display_name, home_store_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    rows,
)
db.execute("UPDATE counters SET value = ? WHERE name = 'customer_ordinal'", (ordinal,))
db.commit()
print(f"{CUSTOMERS:,} customers", file=sys.stderr)

# Orders in time order, one line each.
step = 730 * 86_400 / ORDERS
orders, lines = [], []
counts = {"cancelled": 0, "created": 0, "refunded": 0, "partially_refunded": 0, "completed": 0}


def flush():
    db.executemany(
        "INSERT INTO orders (id, store_id, channel, status, subtotal, discount, delivery_fee, total, paid, refunded, "
        "created_at, updated_at, customer_id) VALUES (?, ?, 'pos', ?, ?, 0, 0, ?, ?, ?, ?, ?, ?)",
        orders,
    )
    db.executemany(
        "INSERT INTO order_lines (order_id, line_no, sku_id, sku_name, quantity, unit_price, sold_by_weight, "
        "base_amount, adjustments, amount, refunded_quantity, refunded_amount) "
        "VALUES (?, 1, ?, ?, ?, ?, 0, ?, '[]', ?, ?, ?)",
        lines,
    )
    db.commit()
    orders.clear()
    lines.clear()


for n in range(ORDERS):
    at = orders_from + int(n * step)
    oid = uuid7(at)
    sku_id, name, price = skus[rng.randrange(len(skus))]
    quantity = 1 + rng.randrange(3)
    amount = price * quantity
    roll = rng.random()
    if roll < 0.03:
        status, paid, refunded, refunded_quantity = "cancelled", 0, 0, 0
    elif roll < 0.04:
        status, paid, refunded, refunded_quantity = "created", 0, 0, 0
    elif roll < 0.07:
        status, paid, refunded, refunded_quantity = "refunded", amount, amount, quantity
    elif roll < 0.10:
        refunded_quantity = rng.randrange(1, quantity + 1) if quantity > 1 else 1
        refunded = price * refunded_quantity
        status = "refunded" if refunded_quantity == quantity else "partially_refunded"
        paid = amount
    else:
        status, paid, refunded, refunded_quantity = "completed", amount, 0, 0
    counts[status] += 1
    stamped = stamp(at)
    orders.append(
        (oid, rng.choice(stores), status, amount, amount, paid, refunded, stamped, stamped, rng.choice(customer_ids))
    )
    lines.append((oid, sku_id, name, quantity, price, amount, amount, refunded_quantity, refunded))
    if len(orders) == BATCH:
        flush()
        if (n + 1) % 1_000_000 == 0:
            print(f"{n + 1:,} orders", file=sys.stderr)
flush()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
print(f"{ORDERS:,} orders: {counts}", file=sys.stderr)
