"""Peer (b): one guarded transaction per reservation on SQLite, as a plain application would do
it. Usage: sqlite_peer.py DB_PATH FULL|NORMAL SECONDS. Prints reservations per second."""
import sqlite3
import sys
import time

path, synchronous, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute(f"PRAGMA synchronous={synchronous}")
db.execute("CREATE TABLE IF NOT EXISTS hot (id INTEGER PRIMARY KEY, quota INTEGER, sold INTEGER)")
db.execute("INSERT OR REPLACE INTO hot VALUES (1, 1000000000, 0)")
done = 0
deadline = time.perf_counter() + seconds
started = time.perf_counter()
while time.perf_counter() < deadline:
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE hot SET sold = sold + 1 WHERE id = 1 AND sold + 1 <= quota")
    db.execute("COMMIT")
    done += 1
print(f"{done / (time.perf_counter() - started):.0f}")
