"""Generate a synthetic area: to the database, to import-format files, or both."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openiom.simulation.generator import Parameters, generate
from openiom.simulation.outputs import DatabaseWriter, FileWriter, write_all
from openiom.simulation.scheme import SchemeParameters


class SimulationRefused(Exception):
    """The simulation cannot run as asked (the message says why)."""


@dataclass(frozen=True)
class SimulationResult:
    manifest: dict[str, Any]
    manifest_path: Path
    run_id: int | None


def software_version() -> str:
    try:
        return metadata.version("openiom")
    except metadata.PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


def simulate_area(
    *,
    people: int,
    seed: int,
    as_of: dt.date,
    out_dir: Path | None = None,
    to_database: bool = True,
    params: Parameters | None = None,
    manifest_dir: Path | None = None,
    scheme: bool = True,
    scheme_params: SchemeParameters | None = None,
) -> SimulationResult:
    """Generate `people` synthetic people with their records.

    Writes the database (in one transaction) unless `to_database` is False, the import files
    when `out_dir` is given, and always a manifest under var/simulations/<seed>-<people>/.
    With a database, `scheme` (default) also simulates the partnership running IOM over the
    years before `as_of` (openiom.simulation.scheme; needs `as_of` not after today).
    """
    if people < 1:
        raise SimulationRefused("--people must be at least 1")
    if not to_database and out_dir is None:
        raise SimulationRefused("--no-db needs --out DIR (otherwise nothing would be written)")
    params = params or Parameters()
    scheme_params = scheme_params or SchemeParameters()
    run_scheme = scheme and to_database
    if run_scheme and as_of > timezone.localdate():
        raise SimulationRefused(
            f"--as-of {as_of} is in the future: the IOM scheme's records cannot be dated after "
            "today (give an earlier --as-of, or --no-scheme)"
        )
    started = timezone.now()
    clock = time.perf_counter()
    manifest_dir = manifest_dir or Path(settings.VAR_DIR) / "simulations" / f"{seed}-{people}"
    chunks = generate(people=people, seed=seed, as_of=as_of, params=params)
    writers: list[Any] = []
    file_writer = FileWriter(out_dir) if out_dir is not None else None
    if file_writer is not None:
        writers.append(file_writer)
    db_counts: dict[str, int] = {}
    run_id = None
    try:
        if to_database:
            from openiom.people.models import Person

            if Person.objects.exists():
                raise SimulationRefused(
                    "The database already holds people; simulate into an empty database "
                    "(or use --if-empty to skip, or --no-db --out DIR for files only)"
                )
            with transaction.atomic():
                db_writer = DatabaseWriter()
                writers.append(db_writer)
                counts = write_all(chunks, writers)
                db_writer.finish(seed=seed, as_of=as_of)
                db_counts = db_writer.counts
                scheme_section: dict[str, Any] | None = None
                if run_scheme:
                    from openiom.simulation.scheme import simulate_scheme

                    scheme_clock = time.perf_counter()
                    if file_writer is not None:
                        file_writer.close()  # the scheme may thin offences.csv (iom_effect)
                    scheme_section = simulate_scheme(
                        seed=seed,
                        as_of=as_of,
                        people=people,
                        params=scheme_params,
                        out_dir=out_dir,
                    )
                    scheme_section["seconds"] = round(time.perf_counter() - scheme_clock, 3)
                manifest = _manifest(
                    people, seed, as_of, params, counts, db_counts, out_dir, started, clock
                )
                manifest["scheme"] = scheme_section
                run_id = _record_run(manifest, manifest_dir, out_dir, started)
        else:
            counts = write_all(chunks, writers)
            manifest = _manifest(
                people, seed, as_of, params, counts, db_counts, out_dir, started, clock
            )
    finally:
        if file_writer is not None:
            file_writer.close()
    manifest_dir.mkdir(parents=True, exist_ok=True)
    path = manifest_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    if out_dir is not None:
        (out_dir / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
        )
    return SimulationResult(manifest=manifest, manifest_path=path, run_id=run_id)


def _manifest(
    people: int,
    seed: int,
    as_of: dt.date,
    params: Parameters,
    counts: dict[str, int],
    db_counts: dict[str, int],
    out_dir: Path | None,
    started: dt.datetime,
    clock: float,
) -> dict[str, Any]:
    return {
        "generator": "openiom.simulation",
        "software_version": software_version(),
        "seed": seed,
        "people": people,
        "as_of": as_of.isoformat(),
        "parameters": params.as_dict(),
        "counts": counts,
        "database_counts": db_counts,
        "wrote_database": bool(db_counts),
        "output_dir": str(out_dir) if out_dir is not None else "",
        "generated_at": started.isoformat(),
        "generation_seconds": round(time.perf_counter() - clock, 3),
    }


def _record_run(
    manifest: dict[str, Any], manifest_dir: Path, out_dir: Path | None, started: dt.datetime
) -> int:
    from openiom.audit.services import record
    from openiom.simulation.models import SimulationRun

    run = SimulationRun.objects.create(
        seed=manifest["seed"],
        people=manifest["people"],
        as_of=dt.date.fromisoformat(manifest["as_of"]),
        parameters=manifest["parameters"],
        counts=manifest["database_counts"],
        software_version=manifest["software_version"],
        wrote_database=True,
        output_dir=str(out_dir or ""),
        manifest_path=str(manifest_dir / "manifest.json"),
        started_at=started,
        duration_seconds=manifest["generation_seconds"],
    )
    scheme = manifest.get("scheme")
    if scheme is not None:
        # the scheme's parameters and counts beside the generator's (counts stay the area's)
        run.parameters = {
            **run.parameters,
            "scheme": {"parameters": scheme["parameters"], "counts": scheme["counts"]},
        }
        run.save(update_fields=["parameters"])
    # a command-line run has no signed-in actor; the audit row still says what was created
    record(
        "simulation.generated",
        actor=None,
        obj=run,
        username="manage.py simulate",
        details={"seed": run.seed, "people": run.people, "as_of": run.as_of},
        context={"people": run.people, "seed": run.seed},
    )
    if scheme is not None:
        from openiom.simulation.scheme import record_scheme_event

        record_scheme_event(scheme, run)
    return run.pk
