"""What DuckDB's file lock does between processes: prints one line per measured case.

Process A opens the file (read_only or read-write) and holds the connection HOLD_S
seconds; process B then tries to open it (read_only or read-write), and we record
whether B succeeds, how long the attempt took, and the error. Usage:

    .venv/bin/python bench/duckdb_lock_probe.py [HOLD_S]   # default 60
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
con.execute("SELECT count(*) FROM t").fetchone()
print("holding", flush=True)
time.sleep(float(sys.argv[3]))
"""


def attempt(path: Path, mode: str) -> tuple[bool, float, str]:
    start = time.perf_counter()
    try:
        con = duckdb.connect(str(path), read_only=mode == "ro")
        if mode == "rw":
            con.execute("INSERT INTO t VALUES (2)")
        else:
            con.execute("SELECT count(*) FROM t").fetchone()
        con.close()
        return True, time.perf_counter() - start, ""
    except duckdb.Error as exc:
        return False, time.perf_counter() - start, str(exc).splitlines()[0][:110]


def case(folder: Path, holder: str, other: str, hold_s: float) -> None:
    path = folder / f"{holder}-{other}.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t (x INT); INSERT INTO t VALUES (1)")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), holder, str(hold_s)], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"holding"
    ok, took, error = attempt(path, other)
    # retry until the holder lets go: how long a writer waits behind a reader
    waited = 0.0
    if not ok:
        t0 = time.perf_counter()
        while not attempt(path, other)[0]:
            time.sleep(0.05)
        waited = time.perf_counter() - t0
    proc.wait()
    verdict = f"ok in {took * 1000:.1f} ms" if ok else f"FAILS in {took * 1000:.1f} ms: {error}"
    after = f"; succeeded {waited:.1f} s later, when A let go" if not ok else ""
    print(f"A {holder} holds {hold_s:g} s, B opens {other}: {verdict}{after}")


def main() -> None:
    hold_s = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    print(f"duckdb {duckdb.__version__}, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        for holder, other in (("ro", "rw"), ("ro", "ro"), ("rw", "ro"), ("rw", "rw")):
            case(Path(tmp), holder, other, hold_s)


if __name__ == "__main__":
    main()
