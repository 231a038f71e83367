"""Matched comparison evaluation at scale (issue 4): a 1,000,000-person pool, 20 covariates, 2,000
treated people chosen on those covariates (selection on observables).

Times (median of --repeats runs, each leg in its own process so its peak RSS is its own):
  (a) the propensity model (`propensity.fit_propensity`, logistic MLE on 1,000,000 × 20);
  (b) the matching step (`matching.match`: 1:1, no replacement, caliper 0.2 SD of the logit) —
      target ≤ 10 s;
  (c) the whole evaluation (`pipeline.evaluate_frame`: checks, model, matching, balance, outcome
      rate + frequency and harm with 500 bootstrap replicates, survival, sensitivity) — target
      ≤ 60 s.

Side by side: R's MatchIt (`Rscript`, `apt-get install -y r-cran-matchit`) on a 2,000 treated vs
50,000 controls sample of the same pool, written to a temporary CSV; both sides time only the
model + matching (`matchit(treat ~ ., data)`, its default design: glm score, 1:1, no replacement,
largest first, no caliper; ours: `fit_propensity` + `match` on the score with the same settings),
not reading the CSV or starting R. The script also checks the pairs: with the engine's MatchIt
4.5.1 compatibility switch (see tests/evaluation/test_matchit_parity.py) they should all agree.

The data come from a vectorised generator in this script (the pool is synthetic and has nothing
to do with the simulator's people). The load average is printed around every leg: the machine is
shared and other jobs slow the timings down.

Usage:
  .venv/bin/python bench/evaluation_bench.py [--people 1000000] [--treated 2000] [--repeats 3]
      [--r-controls 50000] [--skip-r] [--data var/bench_evaluation]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

CONTINUOUS = [
    "age",
    "prior_offences",
    "prior_custody",
    "ogrs3",
    "months_since_last",
    "harm_last_year",
    "arrests_last_year",
    "intelligence_items",
    "years_known",
    "deprivation",
    "x11",
    "x12",
]
BINARY = [
    "male",
    "drug_misuse",
    "alcohol_misuse",
    "housing_need",
    "unemployed",
    "violence_flag",
    "domestic_abuse",
    "care_leaver",
]
COVARIATES = CONTINUOUS + BINARY


class PeakRSS:
    """Samples this process's resident set size every 10 ms; `peak` in bytes."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def __enter__(self) -> PeakRSS:
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def timed(fn: Callable[[], Any], repeats: int) -> dict[str, Any]:
    times, peak = [], 0
    for _ in range(repeats):
        with PeakRSS() as rss:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        peak = max(peak, rss.peak)
    return {"median": statistics.median(times), "runs": [round(t, 2) for t in times], "peak": peak}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- data ----------------------------------------------------------------------------------------


def generate(people: int, treated: int, seed: int) -> Any:
    """The pool as a polars frame: 20 covariates, `treated` people chosen with probability rising
    with their offending (a true logistic propensity), and outcomes with a known effect."""
    import numpy as np
    import polars as pl
    from scipy.special import expit

    rng = np.random.default_rng(seed)
    n = people
    cols: dict[str, Any] = {
        "age": rng.uniform(18, 70, n).round(1),
        "prior_offences": rng.negative_binomial(1.2, 0.15, n).astype(float),
        "prior_custody": rng.poisson(0.6, n).astype(float),
        "ogrs3": rng.beta(2, 3, n).round(4),
        "months_since_last": rng.exponential(14, n).round(1),
        "harm_last_year": rng.gamma(0.6, 40, n).round(1),
        "arrests_last_year": rng.poisson(1.1, n).astype(float),
        "intelligence_items": rng.poisson(0.8, n).astype(float),
        "years_known": rng.uniform(0, 25, n).round(1),
        "deprivation": rng.integers(1, 11, n).astype(float),
        "x11": rng.normal(size=n),
        "x12": rng.normal(size=n),
    }
    for name, p in zip(BINARY, [0.85, 0.3, 0.25, 0.2, 0.5, 0.15, 0.1, 0.05], strict=True):
        cols[name] = (rng.random(n) < p).astype(float)
    x = np.column_stack([cols[c] for c in COVARIATES])
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    # Coefficients on the standardised covariates, in COVARIATES order (12 continuous, 8 flags).
    continuous = [-0.4, 0.8, 0.3, 0.6, -0.5, 0.3, 0.4, 0.3, 0.1, 0.2, 0.05, 0.0]
    flags = [0.2, 0.4, 0.2, 0.3, 0.1, 0.2, 0.1, 0.05]
    beta = np.array([*continuous, *flags])
    score = z @ beta
    # `treated` people drawn without replacement with probability ∝ expit(score − 6)
    # (Efraimidis–Spirakis keys): selection on the observed covariates only.
    weight = expit(score - 6.0)
    keys = np.log(rng.random(n)) / weight
    chosen = np.argpartition(-keys, treated)[:treated]
    t = np.zeros(n, dtype=bool)
    t[chosen] = True
    # Outcomes: risk rises with the same covariates; the programme lowers the odds by 15%.
    risk = expit(-0.6 + 0.9 * score - np.log(1 / 0.85) * t)
    reoffended = rng.random(n) < risk
    reoffences = np.where(reoffended, 1 + rng.poisson(1.5 * np.exp(0.3 * score)), 0)
    harm = np.where(reoffended, rng.gamma(0.8, 30, n) * reoffences, 0.0).round(1)
    days = np.where(reoffended, rng.uniform(1, 365, n).round(), 365.0)
    return pl.DataFrame(
        {
            "person_id": np.arange(1, n + 1),
            "treated": t.astype(np.int8),
            "reoffended": reoffended.astype(np.int8),
            "reoffences": reoffences.astype(np.int64),
            "harm_days": harm,
            "days_to_reoffence": days,
            "reoffence_event": reoffended.astype(np.int8),
            **cols,
        }
    )


# --- legs ----------------------------------------------------------------------------------------


def run_leg(leg: str, data: Path, repeats: int) -> dict[str, Any]:
    import numpy as np
    import polars as pl

    from openiom.evaluation.methods import matching, pipeline, propensity
    from openiom.evaluation.methods.types import EvaluationSpec, MatchingSpec

    frame = pl.read_parquet(data)
    result: dict[str, Any] = {"leg": leg, "load_before": _load()}
    x = frame.select(COVARIATES).to_numpy().astype(np.float64)
    t = frame["treated"].to_numpy().astype(bool)
    if leg == "propensity":
        result |= timed(lambda: propensity.fit_propensity(x, t, COVARIATES), repeats)
        model = propensity.fit_propensity(x, t, COVARIATES)
        result["converged"] = model.converged
    elif leg == "matching":
        model = propensity.fit_propensity(x, t, COVARIATES)
        spec = MatchingSpec()
        result |= timed(lambda: matching.match(model.logit, t, spec), repeats)
        m = matching.match(model.logit, t, spec)
        result["matched"] = [m.n_treated_matched, m.n_treated, m.n_controls_used]
    else:
        evaluation = EvaluationSpec(
            treatment="treated",
            outcome="reoffended",
            covariates=tuple(COVARIATES),
            frequency="reoffences",
            time="days_to_reoffence",
            event="reoffence_event",
            harm="harm_days",
            bootstrap_replicates=500,
            label="Benchmark cohort",
        )
        result |= timed(lambda: pipeline.evaluate_frame(frame, evaluation), repeats)
        r = pipeline.evaluate_frame(frame, evaluation)
        result["headline"] = r.headline
        result["balanced"] = sum(b.balanced for b in r.balance)
        result["covariates"] = len(r.balance)
    result["load_after"] = _load()
    return result


def matchit_side_by_side(data: Path, controls: int, repeats: int, seed: int) -> dict[str, Any]:
    """R MatchIt and this engine on the same 2,000 vs `controls` sample (model + matching only)."""
    import numpy as np
    import polars as pl

    from openiom.evaluation.methods import matching, propensity
    from openiom.evaluation.methods.types import MatchingSpec

    frame = pl.read_parquet(data)
    rng = np.random.default_rng(seed)
    treated_rows = np.flatnonzero(frame["treated"].to_numpy() == 1)
    control_rows = np.flatnonzero(frame["treated"].to_numpy() == 0)
    rows = np.sort(np.r_[treated_rows, rng.choice(control_rows, controls, replace=False)])
    sample = frame[rows].select(["treated", *COVARIATES]).rename({"treated": "treat"})
    out: dict[str, Any] = {"treated": len(treated_rows), "controls": controls}
    with tempfile.TemporaryDirectory(prefix="openiom-matchit-") as tmp:
        csv = Path(tmp) / "sample.csv"
        pairs_csv = Path(tmp) / "pairs.csv"
        sample.write_csv(csv)
        script = f"""
suppressPackageStartupMessages(library(MatchIt))
d <- read.csv("{csv}")
rownames(d) <- as.character(seq_len(nrow(d)))
times <- c(); glm_times <- c()
for (i in seq_len({repeats})) {{
  glm_times <- c(glm_times, system.time(glm(treat ~ ., data = d, family = binomial))[["elapsed"]])
  times <- c(times, system.time(m <- matchit(treat ~ ., data = d))[["elapsed"]])
}}
mm <- m$match.matrix
write.csv(data.frame(treated = rownames(mm), control = mm[, 1]), "{pairs_csv}", row.names = FALSE)
cat(sprintf("%.4f,", times), "\\n")
cat(sprintf("%.4f,", glm_times), "\\n")
cat(R.version.string, "MatchIt", as.character(packageVersion("MatchIt")), "\\n")
"""
        proc = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
        lines = proc.stdout.strip().splitlines()
        r_times = [float(v) for v in lines[0].strip(", \n").split(",") if v.strip()]
        r_glm = [float(v) for v in lines[1].strip(", \n").split(",") if v.strip()]
        out["r_version"] = lines[2].strip()
        out["r_matchit"] = {"median": statistics.median(r_times), "runs": r_times}
        out["r_glm"] = {"median": statistics.median(r_glm), "runs": r_glm}

        ours = pl.read_csv(csv)
        x = ours.select(COVARIATES).to_numpy().astype(np.float64)
        t = ours["treat"].to_numpy().astype(bool)
        spec = MatchingSpec(caliper_sd=None)

        def fit_and_match() -> Any:
            model = propensity.fit_propensity(x, t, COVARIATES)
            return matching.match(model.score, t, spec)

        def fit_only() -> Any:
            return propensity.fit_propensity(x, t, COVARIATES)

        out["ours"] = timed(fit_and_match, repeats)
        out["ours_fit"] = timed(fit_only, repeats)
        model = propensity.fit_propensity(x, t, COVARIATES)
        compat = matching._match(model.score, t, spec, matchit_451=True)
        correct = matching.match(model.score, t, spec)
        r_pairs = pl.read_csv(pairs_csv).drop_nulls()
        want = dict(
            zip(
                r_pairs["treated"].cast(int).to_list(),
                r_pairs["control"].cast(int).to_list(),
                strict=True,
            )
        )
        # R's row names are 1-based positions in the sample.
        for key, res in (("agree_compat", compat), ("agree_correct", correct)):
            got = dict(
                zip((res.pair_treated + 1).tolist(), (res.pair_control + 1).tolist(), strict=True)
            )
            out[key] = [sum(got.get(k) == v for k, v in want.items()), len(want)]
    return out


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--treated", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--r-controls", type=int, default=50_000)
    parser.add_argument("--skip-r", action="store_true")
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "bench_evaluation")
    parser.add_argument(
        "--leg", choices=["propensity", "matching", "evaluate"], help=argparse.SUPPRESS
    )
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.data / f"pool-{args.people}-{args.treated}-{args.seed}.parquet"

    if args.leg:
        args.out.write_text(json.dumps(run_leg(args.leg, path, args.repeats)))
        return

    import numpy as np
    import polars as pl

    if not path.exists():
        args.data.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        generate(args.people, args.treated, args.seed).write_parquet(path)
        print(f"generated {args.people:,} people in {time.perf_counter() - start:.1f}s -> {path}")
    print(
        f"{dt.datetime.now():%Y-%m-%d %H:%M}  numpy {np.__version__}, polars {pl.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; pool "
        f"{args.people:,} people, {args.treated:,} treated, {len(COVARIATES)} covariates"
    )
    targets = {"propensity": None, "matching": 10.0, "evaluate": 60.0}
    for leg, target in targets.items():
        out = args.data / f"result-{leg}.json"
        argv = [sys.executable, __file__, "--leg", leg, "--out", str(out), "--data", str(args.data)]
        argv += ["--people", str(args.people), "--treated", str(args.treated)]
        argv += ["--seed", str(args.seed), "--repeats", str(args.repeats)]
        subprocess.run(argv, check=True)
        r = json.loads(out.read_text())
        line = (
            f"{leg:10}: median {r['median']:.2f}s  runs {r['runs']}  peak RSS "
            f"{r['peak'] / 2**30:.2f} GB  load avg {r['load_before']} -> {r['load_after']}"
        )
        if target is not None:
            line += f"  (target <= {target:.0f}s: {'met' if r['median'] <= target else 'MISSED'})"
        extra = {
            k: v for k, v in r.items() if k in {"converged", "matched", "balanced", "covariates"}
        }
        if extra:
            line += f"\n            {extra}"
        if "headline" in r:
            line += f"\n            headline: {r['headline'][:160]}"
        print(line, flush=True)

    if args.skip_r:
        return
    if shutil.which("Rscript") is None:
        print("R MatchIt: skipped (no Rscript; apt-get install -y r-cran-matchit)")
        return
    load = _load()
    s = matchit_side_by_side(path, args.r_controls, args.repeats, args.seed)
    ratio = s["r_matchit"]["median"] / s["ours"]["median"]
    print(
        f"MatchIt side by side ({s['treated']:,} treated vs {s['controls']:,} controls, "
        f"{len(COVARIATES)} covariates; {s['r_version']}; load avg {load} -> {_load()}):\n"
        f"  R matchit() (glm + nearest): median {s['r_matchit']['median']:.2f}s "
        f"runs {s['r_matchit']['runs']}  (its glm alone {s['r_glm']['median']:.2f}s)\n"
        f"  ours (fit_propensity + match): median {s['ours']['median']:.3f}s runs "
        f"{s['ours']['runs']}  (fit alone {s['ours_fit']['median']:.3f}s)\n"
        f"  R / ours: {ratio:.1f}x;  pairs identical to R's with the 4.5.1 switch: "
        f"{s['agree_compat'][0]}/{s['agree_compat'][1]}, with the correct nearest-neighbour "
        f"rule: {s['agree_correct'][0]}/{s['agree_correct'][1]}"
    )


if __name__ == "__main__":
    main()
