"""People search latency on a 20,000-person synthetic area (target: p95 <= 200 ms).

Runs the real search page (/people/?q=...) through Django's test client as the police
officer, over a mix of surname, full-name, alias, date-of-birth and identifier queries, and also
times the search selector alone. Baseline, side by side: the same queries answered by a naive
case-insensitive substring scan (`icontains` on names, no normalised prefix indexes).

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_search \
       .venv/bin/python bench/search_bench.py [--people 20000] [--queries 300]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiom.settings")
os.environ.setdefault("AXES_ENABLED", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Q
    from django.test import Client

    from openiom.accounts.actor import actor_for_user
    from openiom.partnership.setup import ensure_personas
    from openiom.people.models import Alias, Person
    from openiom.people.selectors import search_people

    call_command("migrate", verbosity=0)
    if Person.objects.count() < args.people:
        Person.objects.all().delete()
        start = time.perf_counter()
        call_command("simulate", people=args.people, seed=args.seed, verbosity=0)
        print(f"simulated {args.people} people in {time.perf_counter() - start:.1f} s")
    users = ensure_personas()
    officer = users["police.officer"]
    actor = actor_for_user(officer)

    rng = random.Random(args.seed)
    people = list(
        Person.objects.order_by("pk").values("first_names", "surname", "date_of_birth", "pnc_id")
    )
    aliases = list(Alias.objects.values_list("surname", flat=True)[:2000])
    queries: list[str] = []
    for i in range(args.queries):
        p = rng.choice(people)
        kind = i % 5
        if kind == 0:
            queries.append(p["surname"])
        elif kind == 1:
            queries.append(f"{p['first_names'].split()[0]} {p['surname']}")
        elif kind == 2:
            queries.append(p["date_of_birth"].strftime("%d/%m/%Y"))
        elif kind == 3 and p["pnc_id"]:
            queries.append(p["pnc_id"])
        else:
            queries.append(rng.choice(aliases) if aliases else p["surname"][:3])

    client = Client()
    client.force_login(officer)
    client.get("/people/", {"q": queries[0]})  # warm up

    page_ms, selector_ms, naive_ms = [], [], []
    for q in queries:
        t = time.perf_counter()
        response = client.get("/people/", {"q": q})
        page_ms.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (q, response.status_code)

        t = time.perf_counter()
        search_people(actor=actor, query=q)
        selector_ms.append((time.perf_counter() - t) * 1000)

        t = time.perf_counter()
        terms = q.split()
        cond = Q()
        for term in terms:
            cond &= (
                Q(surname__icontains=term)
                | Q(first_names__icontains=term)
                | Q(pnc_id__icontains=term)
            )
        list(Person.objects.filter(cond).order_by("surname")[:50])
        naive_ms.append((time.perf_counter() - t) * 1000)

    def line(name: str, xs: list[float]) -> str:
        return (
            f"{name:<28} median {statistics.median(xs):7.1f} ms   p95 {percentile(xs, 95):7.1f} ms"
        )

    print(
        f"database: {connection.vendor}; people: {Person.objects.count():,}; queries: {len(queries)}"
    )
    print(line("search page (HTTP)", page_ms))
    print(line("search selector", selector_ms))
    print(line("baseline icontains scan", naive_ms))
    p95 = percentile(page_ms, 95)
    print(
        f"p95 target 200 ms: {'MET' if p95 <= 200 else 'NOT MET'} ({p95:.1f} ms); "
        f"baseline/selector median ratio {statistics.median(naive_ms) / statistics.median(selector_ms):.2f}"
    )


if __name__ == "__main__":
    main()
