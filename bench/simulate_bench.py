"""Benchmark manage.py simulate: 20,000 people into the database, 1,000,000 people to files.

Usage: .venv/bin/python bench/simulate_bench.py [--quick] [--runs N]
The database target is whatever DATABASE_URL points at (SQLite under var/ by default); each run
uses a fresh database (a temporary SQLite file, or a scratch PostgreSQL database). Prints the
median wall time of the runs and the peak resident memory of the files-only run.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _run(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time and peak RSS (kB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before)


def _fresh_db(env: dict[str, str], scratch: Path, i: int) -> dict[str, str]:
    env = dict(env)
    url = env.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        base, _, _name = url.rpartition("/")
        name = f"bench_simulate_{os.getpid()}_{i}"
        subprocess.run(
            ["psql", f"{base}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
        )
        subprocess.run(["psql", f"{base}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        env["DATABASE_URL"] = f"{base}/{name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{scratch / f'bench{i}.sqlite3'}"
    env["OPENIOM_VAR_DIR"] = str(scratch / "var")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1 run each, 200,000 people to files")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    file_people = 200_000 if args.quick else 1_000_000
    env = dict(os.environ)
    backend = "postgresql" if env.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        db_times = []
        for i in range(runs):
            run_env = _fresh_db(env, scratch, i)
            elapsed, _ = _run(
                ["simulate", "--people", "20000", "--seed", "2026", "--as-of", "2026-01-01"],
                run_env,
            )
            db_times.append(elapsed)
        print(
            f"20,000 people into {backend}: median {statistics.median(db_times):.1f}s over {runs} run(s) {[f'{t:.1f}' for t in db_times]}"
        )
        file_env = dict(env, OPENIOM_VAR_DIR=str(scratch / "var"))
        file_times, peaks = [], []
        for i in range(runs):
            out = scratch / f"files{i}"
            # a separate process per run so the peak RSS belongs to that run
            code = (
                "import resource,subprocess,sys,time;"
                "t=time.perf_counter();"
                f"subprocess.run({[PY, 'manage.py', 'simulate', '--people', str(file_people), '--seed', '2026', '--as-of', '2026-01-01', '--no-db', '--out', str(out)]!r},cwd={str(ROOT)!r},check=True,capture_output=True);"
                "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
            )
            result = subprocess.run(
                [PY, "-c", code], env=file_env, check=True, capture_output=True, text=True
            )
            elapsed, peak = result.stdout.split()
            file_times.append(float(elapsed))
            peaks.append(int(peak))
        print(
            f"{file_people:,} people to files: median {statistics.median(file_times):.1f}s over {runs} run(s), peak RSS {max(peaks) / 1024:.0f} MB"
        )


if __name__ == "__main__":
    main()
