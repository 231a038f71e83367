"""Import 1,000,000 offence rows (plus their people) into PostgreSQL, against a row-by-row baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import .venv/bin/python bench/import_bench.py

Options: --offences N (default 1,000,000), --per-person K (offences per person, default 10),
--runs R (median of R imports, default 3), --baseline N (row-by-row ORM sample, default 50,000),
--simulator (use `manage.py simulate --no-db` for the files when it exists; its row counts then
follow the simulated area rather than --offences). Target: median <= 120 s for 1M offences.
The database is created and migrated if needed, and emptied of people before each run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_import")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiom.settings")


def _load() -> str:
    """1/5/15-minute load averages: other jobs on the machine skew the timings."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _backend_cpu(pid: int) -> float:
    """CPU seconds used so far by a local PostgreSQL backend (0 if /proc cannot tell)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def generate(out: Path, offences: int, per_person: int, seed: int = 1) -> tuple[int, int]:
    """Synthetic people.csv and offences.csv in the import format (vectorised with numpy)."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    n_people = max(1, offences // per_person)
    first = np.array(["Alex", "Sam", "Jordan", "Casey", "Robin", "Jamie", "Kerry", "Lee", "Ali"])
    last = np.array(["Smith", "Jones", "Taylor", "Brown", "Khan", "Evans", "Walker", "Wright"])
    ids = np.arange(n_people)
    dob = np.datetime64("1960-01-01") + rng.integers(0, 365 * 45, n_people).astype("timedelta64[D]")
    people = pl.DataFrame(
        {
            "source_system": "bench",
            "person_id": [f"P{i:07d}" for i in ids],
            "first_names": first[rng.integers(0, len(first), n_people)],
            "surname": [f"{s}{i}" for s, i in zip(last[ids % len(last)], ids, strict=True)],
            "date_of_birth": pl.Series(dob).dt.strftime("%Y-%m-%d"),
            "sex": np.where(rng.random(n_people) < 0.85, "M", "F"),
            "ethnicity_officer_defined": "IC1",
            "ethnicity_self_defined": "W1",
            "pnc_id": [f"2001/{i:07d}B" for i in ids],
            "crn": [f"B{i:06d}" for i in ids],
            "prison_number": "",
            "hub": np.array(["north", "south", "east", "west"])[ids % 4],
            "current_status": "community",
            "status_since": "",
            "date_of_death": "",
            "youth_justice_status": "",
            "youth_justice_team": "",
            "address_line_1": [f"{i % 200 + 1} Bench Street" for i in ids],
            "address_town": "Northgate",
            "address_postcode": "NG1 1AA",
        }
    )
    owner = rng.integers(0, n_people, offences)
    off_date = np.datetime64("2005-01-01") + rng.integers(0, 365 * 18, offences).astype(
        "timedelta64[D]"
    )
    disp = off_date + rng.integers(0, 200, offences).astype("timedelta64[D]")
    codes = np.array(["028/01", "046/00", "105/01", "030/01", "092/00", "039/00"])
    disposals = np.array(["fine", "community_order", "custody", "caution", "discharge"])
    offence_frame = pl.DataFrame(
        {
            "source_system": "bench",
            "offence_id": [f"O{i:08d}" for i in range(offences)],
            "person_id": [f"P{i:07d}" for i in owner],
            "offence_code": codes[rng.integers(0, len(codes), offences)],
            "offence_date": pl.Series(off_date).dt.strftime("%Y-%m-%d"),
            "description": "Synthetic offence",
            "disposal_type": disposals[rng.integers(0, len(disposals), offences)],
            "disposal_date": pl.Series(disp).dt.strftime("%Y-%m-%d"),
            "sentence": "",
            "sentence_length_days": rng.integers(1, 1000, offences).astype(str),
            "court": "Northgate Magistrates Court",
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    people.write_csv(out / "people.csv")
    offence_frame.write_csv(out / "offences.csv")
    return people.height, offence_frame.height


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offences", type=int, default=1_000_000)
    parser.add_argument("--per-person", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=int, default=50_000)
    parser.add_argument("--simulator", action="store_true")
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from openiom.accounts.actor import actor_for_user
    from openiom.imports.services import ExtractFile, import_extract
    from openiom.offending.models import Offence
    from openiom.partnership.models import Agency
    from openiom.partnership.setup import ensure_personas
    from openiom.people.models import Person
    from openiom.reference.models import OffenceCode

    users = ensure_personas()
    actor = actor_for_user(users["analyst"])
    agency = Agency.objects.get(code="wessex-police")

    workdir = Path(tempfile.mkdtemp(prefix="import-bench-"))
    t0 = time.perf_counter()
    if args.simulator:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "simulate",
                "--people",
                "100000",
                "--seed",
                "1",
                "--as-of",
                "2025-12-31",
                "--out",
                str(workdir),
                "--no-db",
            ],
            check=True,
        )
    else:
        generate(workdir, args.offences, args.per_person)
    print(f"generated files in {time.perf_counter() - t0:.1f} s: {workdir}")
    files = [
        ExtractFile.from_path(p)
        for p in sorted(workdir.iterdir())
        if p.suffix == ".csv" and (not args.simulator or p.stem in {"people", "offences"})
    ]

    def empty() -> None:
        with connection.cursor() as c:
            c.execute("TRUNCATE people_person, imports_importbatch RESTART IDENTITY CASCADE")

    times = []
    rows = 0
    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0")
        backend = c.fetchone()[0]
    for run in range(args.runs):
        empty()
        start = time.perf_counter()
        cpu0, db0 = time.process_time(), _backend_cpu(backend)
        result = import_extract(actor=actor, files=files, agency=agency)
        elapsed = time.perf_counter() - start
        # CPU seconds (Python + database) do not grow when other jobs load the machine.
        cpu = (time.process_time() - cpu0, _backend_cpu(backend) - db0)
        if not result.accepted:
            for p in result.problems[:20]:
                print(p)
            raise SystemExit("bench import rejected")
        rows = result.batch.rows_total
        times.append(elapsed)
        print(
            f"run {run + 1}: {elapsed:.1f} s ({rows:,} rows) {result.batch.message} "
            f"[CPU: Python {cpu[0]:.1f} s, PostgreSQL {cpu[1]:.1f} s; load {_load()}]"
        )
    start = time.perf_counter()
    cpu0, db0 = time.process_time(), _backend_cpu(backend)
    again = import_extract(actor=actor, files=files, agency=agency)
    reimport = time.perf_counter() - start
    cpu = (time.process_time() - cpu0, _backend_cpu(backend) - db0)
    print(
        f"re-import (all unchanged): {reimport:.1f} s - {again.batch.message} "
        f"[CPU: Python {cpu[0]:.1f} s, PostgreSQL {cpu[1]:.1f} s; load {_load()}]"
    )

    # Baseline: the naive row-by-row ORM insert of a sample.
    person_ids = list(Person.objects.values_list("id", flat=True)[:10_000])
    code = OffenceCode.objects.get(code="028/01")
    import datetime as dt

    start = time.perf_counter()
    for i in range(args.baseline):
        Offence.objects.create(
            person_id=person_ids[i % len(person_ids)],
            offence_code=code,
            offence_date=dt.date(2020, 1, 1),
            disposal_type="fine",
            disposal_date=dt.date(2020, 2, 1),
            source_system="baseline",
            source_id=f"B{i}",
            recorded_by_agency=agency,
        )
    base_elapsed = time.perf_counter() - start
    median = statistics.median(times)
    import_rate = rows / median
    base_rate = args.baseline / base_elapsed
    print()
    print(
        f"date: {dt.date.today()}  machine: {platform.node()} {platform.machine()} "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {connection.vendor}"
    )
    print(
        f"import median of {len(times)}: {median:.1f} s for {rows:,} rows "
        f"= {import_rate:,.0f} rows/s (target <= 120 s)"
    )
    print(
        f"baseline Offence.objects.create x {args.baseline:,}: {base_elapsed:.1f} s "
        f"= {base_rate:,.0f} rows/s"
    )
    print(f"speed-up: {import_rate / base_rate:.1f}x  (load at the end: {_load()})")


if __name__ == "__main__":
    main()
