"""Synthetic offending careers for an IOM area, generated with numpy and returned as polars frames.

The model, in brief (docs/simulator.md has the detail and the calibration):

* each person has an onset date within the history window, an onset age (mostly mid-teens, some
  adult onset), a personal offending rate drawn from a heavy-tailed (lognormal) distribution, a
  career length that grows with the rate, and an offender profile (acquisitive, violent, general);
* offending is a thinned Poisson process: candidate events at the personal rate, kept with a
  probability that follows the age-crime curve (flat to the peak age, then declining) and never
  while the person is in custody (remand or sentence);
* each offence has a Home Office code drawn from the profile's and age group's offence mix, may be
  proven (conviction or caution, after a realistic delay) or end in an arrest without charge or in
  nothing at all; disposals depend on age, offence and previous sanctions; custodial sentences
  create custody episodes (release at the halfway point) and, after release, licence and
  post-sentence supervision; community and suspended sentence orders create supervision periods.

People are generated in fixed-size chunks, each from its own seed sequence, so the output for a
given (seed, as-of date) is identical whatever is done with it (database, files, or both).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from openiom.simulation import catalogue, names

CHUNK_SIZE = 50_000
YEAR = 365.25

# Code tables shared with the writers (index = stored small int).
SEX_CODES = ("M", "F")
ETHNICITY_SELF = (
    "W1",
    "W2",
    "W3",
    "W4",
    "W9",
    "M1",
    "M2",
    "M3",
    "M9",
    "A1",
    "A2",
    "A3",
    "A4",
    "A9",
    "B1",
    "B2",
    "B9",
    "O2",
    "O9",
    "NS",
)
# Plausible England & Wales offending-population mix (assumption; see docs/simulator.md).
ETHNICITY_SELF_SHARES = (
    72.0,
    1.0,
    1.0,
    0.2,
    5.5,
    2.2,
    0.6,
    0.7,
    0.9,
    1.4,
    2.6,
    0.8,
    0.2,
    0.8,
    2.3,
    2.3,
    1.0,
    0.4,
    0.9,
    2.5,
)
# self-defined -> (officer-defined IC code, probability); otherwise the alternative below
OFFICER_FROM_SELF = {
    "W1": ("IC1", 0.97, "IC2"),
    "W2": ("IC1", 0.97, "IC2"),
    "W3": ("IC1", 0.95, "IC2"),
    "W4": ("IC2", 0.7, "IC1"),
    "W9": ("IC1", 0.6, "IC2"),
    "M1": ("IC3", 0.7, "IC1"),
    "M2": ("IC3", 0.7, "IC1"),
    "M3": ("IC4", 0.5, "IC1"),
    "M9": ("IC1", 0.5, "IC9"),
    "A1": ("IC4", 0.97, "IC9"),
    "A2": ("IC4", 0.97, "IC6"),
    "A3": ("IC4", 0.97, "IC9"),
    "A4": ("IC5", 0.95, "IC4"),
    "A9": ("IC4", 0.8, "IC5"),
    "B1": ("IC3", 0.97, "IC9"),
    "B2": ("IC3", 0.97, "IC9"),
    "B9": ("IC3", 0.95, "IC9"),
    "O2": ("IC6", 0.9, "IC4"),
    "O9": ("IC9", 0.5, "IC6"),
    "NS": ("IC1", 0.75, "IC9"),
}
NAME_GROUP_FOR_SELF = {
    "W1": "british",
    "W2": "irish_traveller",
    "W3": "irish_traveller",
    "W4": "east_european",
    "W9": "east_european",
    "M1": "black_caribbean",
    "M2": "black_african",
    "M3": "british",
    "M9": "british",
    "A1": "south_asian",
    "A2": "south_asian",
    "A3": "south_asian",
    "A4": "east_asian",
    "A9": "south_asian",
    "B1": "black_caribbean",
    "B2": "black_african",
    "B9": "black_caribbean",
    "O2": "arab",
    "O9": "arab",
    "NS": "british",
}

DISPOSALS = (
    "caution",
    "conditional_caution",
    "youth_caution",
    "fine",
    "discharge",
    "community_order",
    "sso",
    "custody",
    "youth_order",
)
D_CAUTION, D_COND, D_YCAUTION, D_FINE, D_DISCHARGE, D_CO, D_SSO, D_CUSTODY, D_YO = range(9)
ARREST_OUTCOMES = ("charged", "cautioned", "nfa", "rui", "bailed")
SUP_TYPES = ("community_order", "sso", "youth_order", "licence", "pss")
CUSTODY_TYPES = ("remand", "sentenced")
RELEASE_TYPES = ("sentenced", "released by court", "conditional release", "end of sentence")


@dataclass(frozen=True)
class Parameters:
    """Everything that shapes the simulated area (all stored in the manifest)."""

    history_years: float = 20.0
    male_share: float = 0.87
    youth_onset_share: float = 0.70
    rate_median: float = 1.05  # candidate offences a year at peak for the median person
    rate_log_sd: float = 1.4  # lognormal spread: a small share are prolific
    rate_cap: float = 40.0
    adult_onset_rate_factor: float = 0.45
    female_rate_factor: float = 0.6
    career_median_years: float = 3.0
    career_log_sd: float = 1.0
    career_rate_elasticity: float = 0.45  # prolific careers last longer
    peak_age: float = 19.0
    youth_rate_floor: float = 0.4  # relative rate at age 10, rising linearly to the peak
    decline_years: float = 6.0  # e-folding time of the age-crime curve after the peak
    p_arrest_unproven: float = 0.35
    p_arrest_proven: float = 0.85
    p_intelligence: float = 0.30
    desist_base: float = 0.35  # chance of stopping after a first sanction ...
    desist_scale: float = 4.0  # ... falling with previous sanctions ...
    desist_floor: float = 0.04  # ... to this floor
    p_quiet: float = 0.45  # chance a sanction starts a quiet spell
    p_quiet_order: float = 0.85  # ... higher under a community or suspended order (supervision)
    p_quiet_custody: float = 0.0  # ... lower after custody (the spell starts at sentencing)
    quiet_mean_days: float = 540.0
    quiet_factor: float = 0.1  # offending rate during a quiet spell, relative
    intermittency_rate_elasticity: float = 0.5  # prolific people stop and pause less often
    extra_offences_mean: float = 0.6  # further offences dealt with on the same occasion
    extra_offences_acquisitive: float = 0.35
    extra_offences_rate_elasticity: float = 0.8  # prolific people face more counts at a time
    extra_offences_cap: float = 4.0
    p_remand_serious: float = 0.35
    prior_custody_slope: float = 0.85  # logit of custody per ln(1 + previous sanctions)
    death_base: float = 0.006
    death_prolific: float = 0.03
    ual_share_of_licence: float = 0.04
    chunk_size: int = CHUNK_SIZE
    hub_shares: tuple[float, ...] = field(default=names.HUB_SHARES)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Chunk:
    """One chunk of simulated people and their records (frames in the import-file shape)."""

    people: pl.DataFrame
    offences: pl.DataFrame
    arrests: pl.DataFrame
    custody: pl.DataFrame
    supervision: pl.DataFrame
    intelligence: pl.DataFrame
    aliases: pl.DataFrame
    addresses: pl.DataFrame
    activity: pl.DataFrame  # person_id, recent proven offences, for partner caseloads

    def frames(self) -> dict[str, pl.DataFrame]:
        return {
            "people": self.people,
            "offences": self.offences,
            "arrests": self.arrests,
            "custody": self.custody,
            "supervision": self.supervision,
            "intelligence": self.intelligence,
            "aliases": self.aliases,
            "addresses": self.addresses,
        }


class _Buffer:
    """Growable column store for records that are updated after they are appended."""

    def __init__(self, **dtypes: Any) -> None:
        self.n = 0
        self.cap = 1024
        self.cols = {k: np.zeros(self.cap, dtype=v) for k, v in dtypes.items()}

    def append(self, **values: np.ndarray) -> np.ndarray:
        m = len(next(iter(values.values())))
        if self.n + m > self.cap:
            while self.n + m > self.cap:
                self.cap *= 2
            for k, col in self.cols.items():
                grown = np.zeros(self.cap, dtype=col.dtype)
                grown[: self.n] = col[: self.n]
                self.cols[k] = grown
        idx = np.arange(self.n, self.n + m)
        for k, v in values.items():
            self.cols[k][idx] = v
        self.n += m
        return idx

    def frame(self) -> dict[str, np.ndarray]:
        return {k: v[: self.n] for k, v in self.cols.items()}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _dates(base: np.datetime64, days: np.ndarray) -> np.ndarray:
    """Float days relative to the as-of date -> datetime64[D] (NaN -> NaT)."""
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnan(days)
    out[ok] = base + np.floor(days[ok]).astype("int64").astype("timedelta64[D]")
    return out


def person_keys(index: np.ndarray) -> list[str]:
    return [f"P{i:07d}" for i in index.tolist()]


_PNC_CHECK = "ZABCDEFGHJKLMNPQRTUVWXY"


def pnc_check_letter(year: int, serial: int) -> str:
    """PNC ids end with a check letter computed from the 2-digit year and the serial number."""
    return _PNC_CHECK[(int(f"{year % 100:02d}{serial:07d}")) % 23]


def _permute(index: np.ndarray, modulus: int, multiplier: int, offset: int) -> np.ndarray:
    """A bijection on [0, modulus): unique identifiers for distinct people."""
    assert math.gcd(multiplier, modulus) == 1
    return (index.astype(np.int64) * multiplier + offset) % modulus


def generate(
    *, people: int, seed: int, as_of: dt.date, params: Parameters | None = None
) -> Iterator[Chunk]:
    """Yield the simulated area chunk by chunk (each chunk is self-contained)."""
    params = params or Parameters()
    for chunk_no, start in enumerate(range(0, people, params.chunk_size)):
        n = min(params.chunk_size, people - start)
        rng = np.random.default_rng(np.random.SeedSequence([seed, chunk_no]))
        yield _generate_chunk(rng=rng, start=start, n=n, as_of=as_of, params=params)


def generate_all(
    *, people: int, seed: int, as_of: dt.date, params: Parameters | None = None
) -> Chunk:
    """The whole area in memory (tests, calibration and database loads of modest size)."""
    chunks = list(generate(people=people, seed=seed, as_of=as_of, params=params))
    frames = {
        name: pl.concat([getattr(c, name) for c in chunks], how="vertical")
        for name in Chunk.__dataclass_fields__
    }
    return Chunk(**frames)


def _generate_chunk(
    *, rng: np.random.Generator, start: int, n: int, as_of: dt.date, params: Parameters
) -> Chunk:
    p = params
    types = catalogue.type_arrays()
    mix = catalogue.cumulative_mix()
    codes = np.array(catalogue.validated_codes())
    base = np.datetime64(as_of.isoformat(), "D")
    gidx = np.arange(start, start + n)

    # --- people -------------------------------------------------------------------------------
    sex = (rng.random(n) >= p.male_share).astype(np.int8)  # 0 male, 1 female
    hub = rng.choice(len(names.HUB_ORDER), size=n, p=np.array(p.hub_shares) / sum(p.hub_shares))
    eth_w = np.array(ETHNICITY_SELF_SHARES)
    eth = rng.choice(len(ETHNICITY_SELF), size=n, p=eth_w / eth_w.sum())
    onset_t = rng.uniform(-p.history_years * YEAR, -14.0, size=n)
    youth_onset = rng.random(n) < p.youth_onset_share
    onset_age = np.where(
        youth_onset, 10.0 + rng.gamma(2.2, 2.4, size=n), 18.0 + rng.gamma(1.6, 8.0, size=n)
    )
    onset_age = np.clip(onset_age, 10.0, 75.0)
    dob_t = onset_t - onset_age * YEAR
    z = rng.standard_normal(n)
    lam = p.rate_median * np.exp(p.rate_log_sd * z)
    lam *= np.where(youth_onset, 1.0, p.adult_onset_rate_factor)
    lam *= np.where(sex == 1, p.female_rate_factor, 1.0)
    lam = np.minimum(lam, p.rate_cap)
    career = (
        p.career_median_years
        * (lam / p.rate_median) ** p.career_rate_elasticity
        * np.exp(p.career_log_sd * rng.standard_normal(n))
    )
    career_end = onset_t + np.maximum(career, 0.05) * YEAR
    # offender profile: prolific people are mostly acquisitive
    p_acq = _sigmoid(-0.6 + 0.9 * np.log(lam / p.rate_median))
    u = rng.random(n)
    profile = np.where(u < p_acq, 0, np.where(rng.random(n) < 0.55, 1, 2))
    # a few have died (more among prolific, drug-using offenders and older people)
    age_now = -dob_t / YEAR
    p_death = (
        p.death_base
        + p.death_prolific * np.minimum(lam / 10.0, 1.0)
        + 0.02 * np.clip((age_now - 50) / 20, 0, 1)
    )
    dies = rng.random(n) < p_death
    lo = np.minimum(onset_t + 30, -1.0)
    death_t = np.where(dies, lo + rng.random(n) * (0.0 - lo), np.nan)
    stop_t = np.minimum(np.minimum(career_end, 0.0), np.where(dies, death_t, 0.0))

    # --- careers: one candidate event per person per iteration ---------------------------------
    off_cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("person", "t", "type", "code", "disp", "d", "length", "seq")
    }
    arr_cols: dict[str, list[np.ndarray]] = {k: [] for k in ("person", "t", "code", "outcome")}
    intel_cols: dict[str, list[np.ndarray]] = {k: [] for k in ("person", "t")}
    episodes = _Buffer(
        person=np.int64,
        kind=np.int8,
        received=np.float64,
        length=np.int64,
        expected=np.float64,
        release=np.float64,
        release_type=np.int8,
    )
    sups = _Buffer(
        person=np.int64,
        kind=np.int8,
        start=np.float64,
        expected=np.float64,
        end=np.float64,
        revoked=np.bool_,
    )

    a_pid = np.arange(n)
    a_t = onset_t.copy()
    a_stop = stop_t.copy()
    a_lam = lam.copy()
    a_dob = dob_t.copy()
    a_prof = profile.copy()
    a_S = np.zeros(n, dtype=np.int64)
    a_cs = np.full(n, -np.inf)
    a_ce = np.full(n, -np.inf)
    a_hearing = np.full(n, -np.inf)
    a_ep = np.full(n, -1, dtype=np.int64)
    a_sup = np.full(n, -1, dtype=np.int64)
    a_sup_end = np.full(n, -np.inf)
    a_quiet = np.full(n, -np.inf)
    first = True
    seq = 0
    while len(a_pid):
        if not first:
            a_t = a_t + rng.exponential(YEAR / a_lam)
            keep = a_t < a_stop
            if not keep.all():
                a_pid, a_t, a_stop, a_lam, a_dob, a_prof = (
                    a_pid[keep],
                    a_t[keep],
                    a_stop[keep],
                    a_lam[keep],
                    a_dob[keep],
                    a_prof[keep],
                )
                a_S, a_cs, a_ce, a_hearing = a_S[keep], a_cs[keep], a_ce[keep], a_hearing[keep]
                a_ep, a_sup, a_sup_end = a_ep[keep], a_sup[keep], a_sup_end[keep]
                a_quiet = a_quiet[keep]
            if not len(a_pid):
                break
        m = len(a_pid)
        age = (a_t - a_dob) / YEAR
        rising = p.youth_rate_floor + (1 - p.youth_rate_floor) * np.clip(
            (age - 10.0) / (p.peak_age - 10.0), 0.0, 1.0
        )
        curve = np.where(age <= p.peak_age, rising, np.exp(-(age - p.peak_age) / p.decline_years))
        in_custody = (a_cs <= a_t) & (a_t < a_ce)
        curve = np.where(a_t < a_quiet, curve * p.quiet_factor, curve)
        accept = np.ones(m, dtype=bool) if first else (rng.random(m) < curve)
        accept &= ~in_custody
        sel = np.flatnonzero(accept)
        seq += 1
        if len(sel):
            _offend(
                rng=rng,
                sel=sel,
                first=first,
                seq=seq,
                p=p,
                types=types,
                mix=mix,
                a_pid=a_pid,
                a_t=a_t,
                age=age,
                a_prof=a_prof,
                a_S=a_S,
                a_cs=a_cs,
                a_ce=a_ce,
                a_hearing=a_hearing,
                a_ep=a_ep,
                a_sup=a_sup,
                a_sup_end=a_sup_end,
                a_quiet=a_quiet,
                a_stop=a_stop,
                a_lam=a_lam,
                off_cols=off_cols,
                arr_cols=arr_cols,
                intel_cols=intel_cols,
                episodes=episodes,
                sups=sups,
            )
        first = False

    return _assemble(
        rng=rng,
        p=p,
        base=base,
        codes=codes,
        gidx=gidx,
        sex=sex,
        hub=hub,
        eth=eth,
        dob_t=dob_t,
        onset_t=onset_t,
        death_t=death_t,
        lam=lam,
        off_cols=off_cols,
        arr_cols=arr_cols,
        intel_cols=intel_cols,
        episodes=episodes,
        sups=sups,
    )


def _offend(
    *,
    rng: np.random.Generator,
    sel: np.ndarray,
    first: bool,
    seq: int,
    p: Parameters,
    types: dict[str, np.ndarray],
    mix: np.ndarray,
    a_pid: np.ndarray,
    a_t: np.ndarray,
    age: np.ndarray,
    a_prof: np.ndarray,
    a_S: np.ndarray,
    a_cs: np.ndarray,
    a_ce: np.ndarray,
    a_hearing: np.ndarray,
    a_ep: np.ndarray,
    a_sup: np.ndarray,
    a_sup_end: np.ndarray,
    a_quiet: np.ndarray,
    a_stop: np.ndarray,
    a_lam: np.ndarray,
    off_cols: dict[str, list[np.ndarray]],
    arr_cols: dict[str, list[np.ndarray]],
    intel_cols: dict[str, list[np.ndarray]],
    episodes: _Buffer,
    sups: _Buffer,
) -> None:
    """Record the offences committed at this iteration by the people in `sel` (vectorised)."""
    k = len(sel)
    pid = a_pid[sel]
    t = a_t[sel]
    ag = age[sel]
    adult = ag >= 18.0
    row = a_prof[sel] * 2 + adult
    u = rng.random(k)
    otype = (u[:, None] > mix[row]).sum(axis=1)
    code = types["first_code"][otype] + (rng.random(k) * types["n_codes"][otype]).astype(np.int64)
    proven = rng.random(k) < types["p_proven"][otype]

    # intelligence tends to precede arrests: recorded in the months before the offence
    n_intel = (rng.random(k) < p.p_intelligence).astype(np.int64) + (
        rng.random(k) < p.p_intelligence * 0.3
    )
    has = np.repeat(np.arange(k), n_intel)
    intel_cols["person"].append(pid[has])
    intel_cols["t"].append(np.minimum(t[has] - rng.uniform(0, 120, size=len(has)), -0.5))

    # unproven offences: sometimes an arrest that goes nowhere (always for a first contact)
    un = np.flatnonzero(~proven)
    arrested = rng.random(len(un)) < (1.0 if first else p.p_arrest_unproven)
    un = un[arrested]
    if len(un):
        arr_cols["person"].append(pid[un])
        arr_cols["t"].append(t[un] + rng.exponential(1.5, size=len(un)))
        arr_cols["code"].append(code[un])
        arr_cols["outcome"].append(rng.choice([2, 3, 4], size=len(un), p=[0.6, 0.3, 0.1]))

    pr = np.flatnonzero(proven)
    if not len(pr):
        return
    loc = sel[pr]  # positions in the active arrays
    pid, t, ag, adult, otype, code = pid[pr], t[pr], ag[pr], adult[pr], otype[pr], code[pr]
    m = len(pr)
    S = a_S[loc]
    minor = types["minor"][otype]
    crown = types["crown"][otype]
    s_idx = np.minimum(S, 3)
    p_caution = np.where(
        adult,
        np.array([0.50, 0.28, 0.12, 0.03])[s_idx] * np.where(minor, 1.0, 0.12),
        np.array([0.75, 0.50, 0.22, 0.05])[s_idx] * np.where(minor, 1.0, 0.4),
    )
    logit = types["custody_logit"][otype] + p.prior_custody_slope * np.log1p(S)
    logit = np.where(adult, logit - 0.3 * (ag < 21), logit - 1.8)
    p_custody = _sigmoid(logit)
    u1, u2, u3 = rng.random(m), rng.random(m), rng.random(m)
    disp = np.full(m, D_FINE, dtype=np.int64)
    caution = u1 < p_caution
    custody = ~caution & (u2 < p_custody)
    rest = ~caution & ~custody
    disp[caution] = np.where(adult[caution] & (u3[caution] < 0.3), D_COND, D_CAUTION)
    disp[caution & ~adult] = D_YCAUTION
    s_cap = np.minimum(S, 10) / 10.0
    p_sso = 0.10 + 0.15 * s_cap
    p_co = 0.32 + 0.05 * s_cap
    adult_rest = rest & adult
    disp[adult_rest & (u3 < p_sso)] = D_SSO
    disp[adult_rest & (u3 >= p_sso) & (u3 < p_sso + p_co)] = D_CO
    disp[adult_rest & (u3 >= p_sso + p_co) & (u3 < p_sso + p_co + 0.12)] = D_DISCHARGE
    youth_rest = rest & ~adult
    disp[youth_rest & (u3 < 0.75)] = D_YO
    disp[youth_rest & (u3 >= 0.75) & (u3 < 0.88)] = D_DISCHARGE
    disp[custody] = D_CUSTODY

    # sentence lengths in days
    length = np.zeros(m, dtype=np.int64)
    cust_len = types["custody_median"][otype] * (1 + 0.04 * np.minimum(S, 25))
    cust_len = cust_len * np.where(adult, 1.0, 0.6) * np.exp(0.55 * rng.standard_normal(m))
    cust_len = np.clip(np.round(cust_len), 7, 4380).astype(np.int64)
    order_months = rng.choice([6, 9, 12, 12, 18, 24], size=m)
    yo_months = rng.choice([3, 6, 9, 12], size=m)
    sso_custody = np.clip(np.round(120 * np.exp(0.5 * rng.standard_normal(m))), 14, 730)
    length[disp == D_CUSTODY] = cust_len[disp == D_CUSTODY]
    length[disp == D_CO] = np.round(order_months[disp == D_CO] * 30.44).astype(np.int64)
    length[disp == D_YO] = np.round(yo_months[disp == D_YO] * 30.44).astype(np.int64)
    length[disp == D_SSO] = sso_custody[disp == D_SSO].astype(np.int64)

    # hearing dates: cautions within weeks, magistrates' months, Crown Court longer
    is_caution = np.isin(disp, (D_CAUTION, D_COND, D_YCAUTION))
    long_case = crown | (length > 365) & (disp == D_CUSTODY)
    delay = np.where(
        is_caution,
        rng.uniform(0, 28, size=m),
        np.where(long_case, 220.0, 75.0) * np.exp(0.5 * rng.standard_normal(m)),
    )
    d = np.floor(t + np.maximum(delay, 1.0))

    # offences committed while a custodial case is pending are dealt with at the same hearing
    cs, ce, hearing = a_cs[loc], a_ce[loc], a_hearing[loc]
    consolidate = cs > t
    d = np.where(consolidate, hearing, d)
    disp = np.where(consolidate, D_CUSTODY, disp)
    short = np.clip(
        np.round(types["custody_median"][otype] * np.exp(0.4 * rng.standard_normal(m))),
        7,
        4380,
    )
    length = np.where(consolidate & (length == 0), short, length).astype(np.int64)
    length = np.where(consolidate & (disp == D_CUSTODY), np.maximum(length, 7), length)

    # consolidated custody: concurrent, may extend the pending release
    ci = np.flatnonzero(consolidate)
    if len(ci):
        ep = a_ep[loc[ci]]
        new_release = np.maximum(ce[ci], d[ci] + np.ceil(length[ci] / 2))
        valid = ep >= 0
        cols = episodes.cols
        cols["length"][ep[valid]] = np.maximum(cols["length"][ep[valid]], length[ci][valid])
        cols["expected"][ep[valid]] = np.maximum(cols["expected"][ep[valid]], new_release[valid])
        cols["release"][ep[valid]] = np.maximum(cols["release"][ep[valid]], new_release[valid])
        a_ce[loc[ci]] = np.maximum(ce[ci], new_release)

    # new custody: optional remand from the day after arrest, release at the halfway point
    ni = np.flatnonzero(~consolidate & (disp == D_CUSTODY))
    remand_p = np.where(crown | (length > 365), p.p_remand_serious, 0.04)
    remand = ~consolidate & (rng.random(m) < remand_p) & ~is_caution
    ri = np.flatnonzero(remand)
    if len(ri):
        r_start = np.floor(t[ri]) + 1
        r_start = np.minimum(r_start, d[ri])
        r_custody = disp[ri] == D_CUSTODY
        episodes.append(
            person=pid[ri],
            kind=np.zeros(len(ri), dtype=np.int8),
            received=r_start,
            length=np.full(len(ri), -1),
            expected=np.full(len(ri), np.nan),
            release=d[ri],
            release_type=np.where(r_custody, 0, 1).astype(np.int8),
        )
        a_cs[loc[ri]] = r_start
        a_ce[loc[ri]] = d[ri]
        a_hearing[loc[ri]] = d[ri]
    if len(ni):
        served = np.ceil(length[ni] / 2)
        start = np.where(remand[ni], np.floor(t[ni]) + 1, d[ni])
        start = np.minimum(start, d[ni])
        release = np.maximum(d[ni], start + served)
        idx = episodes.append(
            person=pid[ni],
            kind=np.ones(len(ni), dtype=np.int8),
            received=d[ni],
            length=length[ni],
            expected=release,
            release=release,
            release_type=np.full(len(ni), 2, dtype=np.int8),
        )
        a_ep[loc[ni]] = idx
        a_cs[loc[ni]] = start
        a_ce[loc[ni]] = release
        a_hearing[loc[ni]] = d[ni]
        # a custodial sentence ends any open community or suspended order
        so = a_sup[loc[ni]]
        open_ = (so >= 0) & (a_sup_end[loc[ni]] > start)
        sups.cols["end"][so[open_]] = start[open_]
        sups.cols["revoked"][so[open_]] = True
        a_sup[loc[ni][open_]] = -1

    # community, suspended and youth orders start supervision at the hearing
    oi = np.flatnonzero(np.isin(disp, (D_CO, D_SSO, D_YO)))
    if len(oi):
        kind = np.select([disp[oi] == D_CO, disp[oi] == D_SSO], [0, 1], default=2).astype(np.int8)
        period = np.where(
            disp[oi] == D_SSO, rng.choice([365, 548, 730], size=len(oi)), length[oi]
        ).astype(np.float64)
        idx = sups.append(
            person=pid[oi],
            kind=kind,
            start=d[oi],
            expected=d[oi] + period,
            end=np.full(len(oi), np.nan),
            revoked=np.zeros(len(oi), dtype=bool),
        )
        a_sup[loc[oi]] = idx
        a_sup_end[loc[oi]] = d[oi] + period

    # several offences are often dealt with on one occasion (e.g. a run of thefts, or an
    # assault with criminal damage): same date, same hearing, concurrent sentences
    extra_mean = (
        p.extra_offences_mean + p.extra_offences_acquisitive * types["acquisitive"][otype]
    ) * (a_lam[loc] / p.rate_median) ** p.extra_offences_rate_elasticity
    extra = rng.poisson(np.minimum(extra_mean, p.extra_offences_cap))
    rep = np.repeat(np.arange(m), 1 + extra)
    is_extra = np.ones(len(rep), dtype=bool)
    is_extra[np.cumsum(1 + extra) - 1 - extra] = False
    e_type = otype[rep].copy()
    redraw = is_extra & (rng.random(len(rep)) < 0.4)
    e_type[redraw] = (
        rng.random(redraw.sum())[:, None] > mix[a_prof[loc][rep][redraw] * 2 + adult[rep][redraw]]
    ).sum(axis=1)
    e_code = code[rep].copy()
    e_code[is_extra] = types["first_code"][e_type[is_extra]] + (
        rng.random(is_extra.sum()) * types["n_codes"][e_type[is_extra]]
    ).astype(np.int64)
    # a sanction is often followed by a quiet spell, and sometimes by desistance (most likely
    # after the first few sanctions): this intermittency is what keeps one-year reoffending
    # rates realistic while prolific careers still accumulate many offences
    damp = np.minimum(1.0, (a_lam[loc] / p.rate_median) ** -p.intermittency_rate_elasticity)
    p_desist = (p.desist_base * np.exp(-S / p.desist_scale) + p.desist_floor) * damp
    # (not after custody: release is when relapse is most likely)
    not_custody = disp != D_CUSTODY
    desist = (rng.random(m) < p_desist) & not_custody
    a_stop[loc[desist]] = np.minimum(a_stop[loc[desist]], d[desist])
    on_order = np.isin(disp, (D_CO, D_SSO, D_YO))
    p_q = np.where(on_order, p.p_quiet_order, np.where(not_custody, p.p_quiet, p.p_quiet_custody))
    quiet = rng.random(m) < p_q
    a_quiet[loc[~not_custody]] = -np.inf  # release from custody ends any quiet spell
    a_quiet[loc[quiet]] = d[quiet] + rng.exponential(p.quiet_mean_days, size=quiet.sum())
    a_S[loc] += 1 + extra
    a_hearing[loc] = np.maximum(a_hearing[loc], d)
    off_cols["person"].append(pid[rep])
    off_cols["t"].append(t[rep])
    off_cols["type"].append(e_type)
    off_cols["code"].append(e_code)
    off_cols["disp"].append(disp.astype(np.int64)[rep])
    off_cols["d"].append(d[rep])
    off_cols["length"].append(length[rep])
    off_cols["seq"].append(np.full(len(rep), seq))

    # most proven offences start with an arrest (the rest by summons or postal requisition)
    ai = np.flatnonzero(rng.random(m) < p.p_arrest_proven)
    if len(ai):
        arr_cols["person"].append(pid[ai])
        arr_cols["t"].append(np.minimum(t[ai] + rng.exponential(1.0, size=len(ai)), d[ai]))
        arr_cols["code"].append(code[ai])
        arr_cols["outcome"].append(np.where(is_caution[ai], 1, 0))


def _cat(cols: dict[str, list[np.ndarray]], key: str, dtype: Any) -> np.ndarray:
    parts = cols[key]
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _pid_expr(col: str = "pidx") -> pl.Expr:
    return pl.format("P{}", pl.col(col).cast(pl.String).str.zfill(7))


def _assemble(
    *,
    rng: np.random.Generator,
    p: Parameters,
    base: np.datetime64,
    codes: np.ndarray,
    gidx: np.ndarray,
    sex: np.ndarray,
    hub: np.ndarray,
    eth: np.ndarray,
    dob_t: np.ndarray,
    onset_t: np.ndarray,
    death_t: np.ndarray,
    lam: np.ndarray,
    off_cols: dict[str, list[np.ndarray]],
    arr_cols: dict[str, list[np.ndarray]],
    intel_cols: dict[str, list[np.ndarray]],
    episodes: _Buffer,
    sups: _Buffer,
) -> Chunk:
    """Turn the raw event arrays into frames shaped like the import files."""
    n = len(gidx)
    start = int(gidx[0]) if n else 0
    death_or_now = np.where(np.isnan(death_t), 0.0, death_t)
    hub_codes = np.array(names.HUB_ORDER)
    towns = np.array([names.HUB_PLACES[h][0] for h in names.HUB_ORDER])
    type_labels = np.array([tp.label for tp in catalogue.TYPES])

    # --- offences (proven by the as-of date, and before death) ---------------------------------
    o_person = _cat(off_cols, "person", np.int64)
    o_t = _cat(off_cols, "t", np.float64)
    o_d = _cat(off_cols, "d", np.float64)
    o_type = _cat(off_cols, "type", np.int64)
    o_disp = _cat(off_cols, "disp", np.int64)
    o_len = _cat(off_cols, "length", np.int64)
    o_seq = _cat(off_cols, "seq", np.int64)
    o_code = _cat(off_cols, "code", np.int64)
    ok = (o_d <= 0) & (o_d <= death_or_now[o_person])
    o_person, o_t, o_d, o_type, o_disp, o_len, o_seq, o_code = (
        a[ok] for a in (o_person, o_t, o_d, o_type, o_disp, o_len, o_seq, o_code)
    )
    o_age = (o_t - dob_t[o_person]) / YEAR
    crown = catalogue.type_arrays()["crown"][o_type] | ((o_disp == D_CUSTODY) & (o_len > 365))
    court = np.where(
        np.isin(o_disp, (D_CAUTION, D_COND, D_YCAUTION)),
        np.char.add(towns[hub[o_person]], " Police Station"),
        np.where(
            crown & (o_age >= 18),
            "Wessex Crown Court",
            np.char.add(
                towns[hub[o_person]],
                np.where(o_age < 18, " Youth Court", " Magistrates' Court"),
            ),
        ),
    )
    offences = (
        pl.DataFrame(
            {
                "pidx": o_person + start,
                "offence_date": _dates(base, o_t),
                "seq": o_seq,
                "offence_code": codes[o_code],
                "description": type_labels[o_type],
                "disposal_type": np.array(DISPOSALS)[o_disp],
                "disposal_date": _dates(base, o_d),
                "sentence_length_days": np.where(o_len > 0, o_len, -1),
                "court": court,
                "fine": np.round(np.exp(rng.normal(5.0, 0.6, size=len(o_person))) / 5) * 5,
            }
        )
        .with_columns(
            pl.when(pl.col("sentence_length_days") > 0)
            .then(pl.col("sentence_length_days"))
            .otherwise(None)
            .alias("sentence_length_days")
        )
        .sort("pidx", "offence_date", "seq")
        .with_columns(
            pl.lit("pnc").alias("source_system"),
            _pid_expr().alias("person_id"),
            pl.int_range(1, pl.len() + 1).over("pidx").alias("k"),
        )
        .with_columns(
            pl.format("{}-O{}", "person_id", pl.col("k").cast(pl.String).str.zfill(3)).alias(
                "offence_id"
            )
        )
    )
    months = (pl.col("sentence_length_days") / 30.44).round(0).cast(pl.Int64).cast(pl.String)
    offences = offences.with_columns(
        pl.when(pl.col("disposal_type") == "custody")
        .then(pl.format("Imprisonment {} days", pl.col("sentence_length_days")))
        .when(pl.col("disposal_type") == "community_order")
        .then(pl.format("Community order {} months (unpaid work, rehabilitation activity)", months))
        .when(pl.col("disposal_type") == "sso")
        .then(pl.format("Suspended sentence order {} days", pl.col("sentence_length_days")))
        .when(pl.col("disposal_type") == "youth_order")
        .then(pl.format("Youth rehabilitation order {} months", months))
        .when(pl.col("disposal_type") == "fine")
        .then(pl.format("Fine £{}", pl.col("fine").cast(pl.Int64)))
        .when(pl.col("disposal_type") == "discharge")
        .then(pl.lit("Conditional discharge 12 months"))
        .when(pl.col("disposal_type") == "conditional_caution")
        .then(pl.lit("Conditional caution"))
        .when(pl.col("disposal_type") == "youth_caution")
        .then(pl.lit("Youth caution"))
        .otherwise(pl.lit("Simple caution"))
        .alias("sentence")
    )

    # --- custody episodes ---------------------------------------------------------------------
    ep = episodes.frame()
    e_ok = (ep["received"] <= 0) & (ep["received"] <= death_or_now[ep["person"]])
    ep = {k: v[e_ok] for k, v in ep.items()}
    e_death = death_t[ep["person"]]
    release = ep["release"].copy()
    rtype = np.array(RELEASE_TYPES, dtype=object)[ep["release_type"]]
    died_inside = ~np.isnan(e_death) & (release > e_death)
    release[died_inside] = e_death[died_inside]
    rtype[died_inside] = "died in custody"
    still_in = release > 0
    release[still_in] = np.nan
    rtype[still_in] = ""
    e_len = ep["length"]
    custody = (
        pl.DataFrame(
            {
                "pidx": ep["person"] + start,
                "custody_type": np.array(CUSTODY_TYPES)[ep["kind"]],
                "establishment": np.where(
                    (ep["received"] - dob_t[ep["person"]]) / YEAR < 21, "HMYOI Wessex", "HMP Wessex"
                ),
                "received_date": _dates(base, ep["received"]),
                "kind": ep["kind"],
                "sentence_length_days": np.where(e_len > 0, e_len, 0),
                "expected_release_date": _dates(base, ep["expected"]),
                "release_date": _dates(base, release),
                "release_type": rtype.astype(str),
            }
        )
        .with_columns(
            pl.when(pl.col("kind") == 1)
            .then(pl.col("sentence_length_days"))
            .otherwise(None)
            .alias("sentence_length_days")
        )
        .sort("pidx", "received_date", "kind")
        .with_columns(
            pl.lit("nomis").alias("source_system"),
            _pid_expr().alias("person_id"),
            pl.int_range(1, pl.len() + 1).over("pidx").alias("k"),
        )
        .with_columns(
            pl.format("{}-C{}", "person_id", pl.col("k").cast(pl.String).str.zfill(3)).alias(
                "custody_id"
            )
        )
    )
    # --- supervision: orders from the loop, licences and PSS after sentenced releases ---------
    sp = sups.frame()
    s_ok = (sp["start"] <= 0) & (sp["start"] <= death_or_now[sp["person"]])
    sp = {k: v[s_ok] for k, v in sp.items()}
    sentenced = (ep["kind"] == 1) & ~np.isnan(release) & ~died_inside
    lic_start = release[sentenced]
    expiry = ep["received"][sentenced] + e_len[sentenced]
    lic_person = ep["person"][sentenced]
    has_lic = expiry > lic_start
    pss = (e_len[sentenced] < 730) & (e_len[sentenced] > 1)
    pss_end = lic_start + 365
    has_pss = pss & (pss_end > np.maximum(expiry, lic_start))
    pss_start = np.maximum(expiry, lic_start)
    s_person = np.concatenate([sp["person"], lic_person[has_lic], lic_person[has_pss]])
    s_kind = np.concatenate(
        [sp["kind"], np.full(has_lic.sum(), 3), np.full(has_pss.sum(), 4)]
    ).astype(np.int64)
    s_start = np.concatenate([sp["start"], lic_start[has_lic], pss_start[has_pss]])
    s_expected = np.concatenate([sp["expected"], expiry[has_lic], pss_end[has_pss]])
    s_end = np.concatenate([sp["end"], np.full(has_lic.sum() + has_pss.sum(), np.nan)])
    s_revoked = np.concatenate([sp["revoked"], np.zeros(has_lic.sum() + has_pss.sum(), bool)])
    supervision = pl.DataFrame(
        {
            "pidx": s_person,
            "kind": s_kind,
            "start": s_start,
            "expected": s_expected,
            "end": s_end,
            "revoked": s_revoked,
            "death": death_t[s_person],
        }
    ).filter(pl.col("start") <= 0)  # PSS that starts after the as-of date is not yet recorded
    # licences and PSS end early when the person is received into custody again (recall)
    recv = (
        pl.DataFrame({"pidx": ep["person"], "received": ep["received"]})
        .sort("received")
        .rename({"received": "next_received"})
    )
    supervision = (
        supervision.with_row_index("row")
        .sort("start")
        .join_asof(
            recv.with_columns(pl.col("next_received").alias("key")),
            left_on="start",
            right_on="key",
            by="pidx",
            strategy="forward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .sort("row")
    )
    is_lic = pl.col("kind") >= 3
    recalled = (
        is_lic
        & pl.col("next_received").is_not_null()
        & (pl.col("next_received") < pl.col("expected"))
    )
    end = (
        pl.when(pl.col("revoked"))
        .then(pl.col("end"))
        .when(recalled)
        .then(pl.col("next_received"))
        .otherwise(pl.col("expected"))
    )
    # A supervision period never ends before it starts (a revocation or recall dated earlier
    # belongs to an earlier period), and nobody starts supervision after their death.
    supervision = supervision.with_columns(
        pl.max_horizontal(end, pl.col("start")).alias("end")
    ).filter(pl.col("death").is_null() | (pl.col("death") >= pl.col("start")))
    reason = (
        pl.when(pl.col("death").is_not_null() & (pl.col("death") < pl.col("end")))
        .then(pl.lit("died"))
        .when(pl.col("revoked"))
        .then(pl.lit("revoked on custodial sentence"))
        .when(recalled)
        .then(pl.lit("recalled to custody"))
        .otherwise(pl.lit("completed"))
    )
    supervision = supervision.with_columns(
        reason.alias("end_reason"),
        pl.when(pl.col("death").is_not_null() & (pl.col("death") < pl.col("end")))
        .then(pl.col("death"))
        .otherwise(pl.col("end"))
        .alias("end"),
    ).with_columns(
        pl.when(pl.col("end") > 0).then(None).otherwise(pl.col("end")).alias("end"),
        pl.when(pl.col("end") > 0)
        .then(pl.lit(""))
        .otherwise(pl.col("end_reason"))
        .alias("end_reason"),
    )
    supervision = (
        supervision.with_columns(
            pl.Series("start_date", _dates(base, supervision["start"].to_numpy())),
            pl.Series("expected_end_date", _dates(base, supervision["expected"].to_numpy())),
            pl.Series("end_date", _dates(base, supervision["end"].fill_null(np.nan).to_numpy())),
            pl.Series("supervision_type", np.array(SUP_TYPES)[supervision["kind"].to_numpy()]),
        )
        .with_columns(pl.col("pidx") + start)
        .sort("pidx", "start_date", "kind")
        .with_columns(
            pl.lit("ndelius").alias("source_system"),
            _pid_expr().alias("person_id"),
            pl.int_range(1, pl.len() + 1).over("pidx").alias("k"),
        )
        .with_columns(
            pl.format("{}-S{}", "person_id", pl.col("k").cast(pl.String).str.zfill(3)).alias(
                "supervision_id"
            )
        )
    )

    # --- arrests ------------------------------------------------------------------------------
    a_person = _cat(arr_cols, "person", np.int64)
    a_t = _cat(arr_cols, "t", np.float64)
    a_ok = (a_t <= 0) & (a_t <= death_or_now[a_person])
    a_person, a_t = a_person[a_ok], a_t[a_ok]
    a_code = _cat(arr_cols, "code", np.int64)[a_ok]
    a_out = _cat(arr_cols, "outcome", np.int64)[a_ok]
    a_type_label = np.array([tp.label for tp in catalogue.TYPES for _ in tp.codes])
    arrests = (
        pl.DataFrame(
            {
                "pidx": a_person + start,
                "arrest_date": _dates(base, a_t),
                "offence_code": codes[a_code],
                "description": np.char.add("On suspicion of: ", a_type_label[a_code].astype(str)),
                "outcome": np.array(ARREST_OUTCOMES)[a_out],
            }
        )
        .sort("pidx", "arrest_date", maintain_order=True)
        .with_columns(
            pl.lit("pnc").alias("source_system"),
            _pid_expr().alias("person_id"),
            pl.int_range(1, pl.len() + 1).over("pidx").alias("k"),
        )
        .with_columns(
            pl.format("{}-A{}", "person_id", pl.col("k").cast(pl.String).str.zfill(3)).alias(
                "arrest_id"
            )
        )
    )

    # --- intelligence -------------------------------------------------------------------------
    i_person = _cat(intel_cols, "person", np.int64)
    i_t = _cat(intel_cols, "t", np.float64)
    i_ok = (i_t <= death_or_now[i_person]) & (i_t >= onset_t[i_person] - 365)
    i_person, i_t = i_person[i_ok], i_t[i_ok]
    ni = len(i_person)
    tmpl = rng.integers(0, len(names.INTELLIGENCE_TEMPLATES), size=ni)
    street = rng.integers(0, len(names.STREETS), size=ni)
    src = rng.choice(["1", "2", "3"], size=ni, p=[0.3, 0.55, 0.15])
    grade = rng.choice(list("ABCDE"), size=ni, p=[0.12, 0.3, 0.4, 0.14, 0.04])
    handling = np.where(rng.random(ni) < 0.85, "P", "C")
    cond = np.array(names.HANDLING_CONDITIONS)[
        rng.integers(0, len(names.HANDLING_CONDITIONS), size=ni)
    ]
    texts = np.array(
        [
            names.INTELLIGENCE_TEMPLATES[a].format(town=towns[h], street=names.STREETS[s])
            for a, h, s in zip(tmpl.tolist(), hub[i_person].tolist(), street.tolist(), strict=True)
        ],
        dtype=object,
    )
    intelligence = (
        pl.DataFrame(
            {
                "pidx": i_person + start,
                "recorded_date": _dates(base, i_t),
                "source_grade": src,
                "intelligence_grade": grade,
                "handling_code": handling,
                "handling_conditions": np.where(handling == "C", cond, ""),
                "text": texts.astype(str) if ni else np.zeros(0, dtype=str),
            }
        )
        .sort("pidx", "recorded_date", maintain_order=True)
        .with_columns(
            pl.lit("pnc").alias("source_system"),
            _pid_expr().alias("person_id"),
            pl.int_range(1, pl.len() + 1).over("pidx").alias("k"),
        )
        .with_columns(
            pl.format("{}-I{}", "person_id", pl.col("k").cast(pl.String).str.zfill(3)).alias(
                "intelligence_id"
            )
        )
    )

    # --- people -------------------------------------------------------------------------------
    people, aliases, addresses = _people(
        rng=rng,
        p=p,
        base=base,
        gidx=gidx,
        sex=sex,
        hub=hub,
        eth=eth,
        dob_t=dob_t,
        onset_t=onset_t,
        death_t=death_t,
        lam=lam,
        offences=offences,
        custody=custody,
        supervision=supervision,
        hub_codes=hub_codes,
        towns=towns,
    )

    cols = {
        "offences": [
            "source_system",
            "offence_id",
            "person_id",
            "offence_code",
            "offence_date",
            "description",
            "disposal_type",
            "disposal_date",
            "sentence",
            "sentence_length_days",
            "court",
        ],
        "arrests": [
            "source_system",
            "arrest_id",
            "person_id",
            "arrest_date",
            "offence_code",
            "description",
            "outcome",
        ],
        "custody": [
            "source_system",
            "custody_id",
            "person_id",
            "custody_type",
            "establishment",
            "received_date",
            "sentence_length_days",
            "expected_release_date",
            "release_date",
            "release_type",
        ],
        "supervision": [
            "source_system",
            "supervision_id",
            "person_id",
            "supervision_type",
            "start_date",
            "expected_end_date",
            "end_date",
            "end_reason",
        ],
        "intelligence": [
            "source_system",
            "intelligence_id",
            "person_id",
            "recorded_date",
            "source_grade",
            "intelligence_grade",
            "handling_code",
            "handling_conditions",
            "text",
        ],
    }
    as_of_d = base.astype(dt.date)
    recent = (
        offences.filter(pl.col("offence_date") >= pl.lit(as_of_d - dt.timedelta(days=730)))
        .group_by("person_id")
        .len("recent_offences")
    )
    activity = (
        people.select("person_id", "current_status", "youth_justice_status")
        .join(recent, on="person_id", how="left")
        .with_columns(pl.col("recent_offences").fill_null(0).cast(pl.Int64))
    )
    return Chunk(
        people=people,
        offences=offences.select(cols["offences"]),
        arrests=arrests.select(cols["arrests"]),
        custody=custody.select(cols["custody"]),
        supervision=supervision.select(cols["supervision"]),
        intelligence=intelligence.select(cols["intelligence"]),
        aliases=aliases,
        addresses=addresses,
        activity=activity,
    )


def _people(
    *,
    rng: np.random.Generator,
    p: Parameters,
    base: np.datetime64,
    gidx: np.ndarray,
    sex: np.ndarray,
    hub: np.ndarray,
    eth: np.ndarray,
    dob_t: np.ndarray,
    onset_t: np.ndarray,
    death_t: np.ndarray,
    lam: np.ndarray,
    offences: pl.DataFrame,
    custody: pl.DataFrame,
    supervision: pl.DataFrame,
    hub_codes: np.ndarray,
    towns: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    n = len(gidx)
    start = int(gidx[0]) if n else 0
    eth_codes = np.array(ETHNICITY_SELF)[eth]
    # officer-defined ethnicity follows the self-defined one, with realistic disagreement
    main = np.array([OFFICER_FROM_SELF[c][0] for c in ETHNICITY_SELF])[eth]
    prob = np.array([OFFICER_FROM_SELF[c][1] for c in ETHNICITY_SELF])[eth]
    alt = np.array([OFFICER_FROM_SELF[c][2] for c in ETHNICITY_SELF])[eth]
    officer = np.where(rng.random(n) < prob, main, alt)
    officer = np.where(rng.random(n) < 0.03, "IC9", officer)

    # names from the list matching the self-defined ethnicity
    group_of = np.array(
        [names.NAME_GROUP_ORDER.index(NAME_GROUP_FOR_SELF[c]) for c in ETHNICITY_SELF]
    )[eth]
    first = np.empty(n, dtype=object)
    middle = np.empty(n, dtype=object)
    surname = np.empty(n, dtype=object)
    alias_surname = np.empty(n, dtype=object)
    u1, u2, u3, u4 = rng.random(n), rng.random(n), rng.random(n), rng.random(n)
    for g, key in enumerate(names.NAME_GROUP_ORDER):
        male_names, female_names, surnames = (
            np.array(x, dtype=object) for x in names.NAME_GROUPS[key]
        )
        in_g = group_of == g
        for s, given in ((0, male_names), (1, female_names)):
            mask = in_g & (sex == s)
            first[mask] = given[(u1[mask] * len(given)).astype(int)]
            middle[mask] = given[(u2[mask] * len(given)).astype(int)]
        surname[in_g] = surnames[(u3[in_g] * len(surnames)).astype(int)]
        alias_surname[in_g] = surnames[(u4[in_g] * len(surnames)).astype(int)]
    has_middle = (rng.random(n) < 0.45) & (middle != first)
    first_names = np.where(has_middle, first + " " + middle, first)

    dob = _dates(base, dob_t)
    first_year = (base + np.floor(onset_t).astype("int64").astype("timedelta64[D]")).astype(
        "datetime64[Y]"
    ).astype(int) + 1970
    serial = _permute(gidx, 10_000_000, 7_654_321, 1_234_567)
    pnc = [
        f"{y}/{s:07d}{pnc_check_letter(y, s)}"
        for y, s in zip(first_year.tolist(), serial.tolist(), strict=True)
    ]
    crn_n = _permute(gidx, 26_000_000, 7_777_777, 4_242_424)
    crn = [f"{chr(65 + c // 1_000_000)}{c % 1_000_000:06d}" for c in crn_n.tolist()]
    pn = _permute(gidx, 26 * 10_000 * 676, 1_234_577, 98_765)
    prison = [
        f"{chr(65 + (v // 6_760_000))}{(v // 676) % 10_000:04d}{chr(65 + (v % 676) // 26)}{chr(65 + v % 26)}"
        for v in pn.tolist()
    ]

    pidx = gidx
    people = pl.DataFrame(
        {
            "pidx": pidx,
            "first_names": first_names.astype(str),
            "surname": surname.astype(str),
            "date_of_birth": dob,
            "sex": np.array(SEX_CODES)[sex],
            "ethnicity_officer_defined": officer,
            "ethnicity_self_defined": eth_codes,
            "pnc_id": pnc,
            "crn_all": crn,
            "prison_all": prison,
            "hub": hub_codes[hub],
            "town": towns[hub],
            "death": death_t,
            "date_of_death": _dates(base, death_t),
            "age_now": -dob_t / YEAR,
            "lam": lam,
        }
    ).with_columns(_pid_expr().alias("person_id"))

    # who has probation or prison records
    on_probation = (
        supervision.filter(pl.col("supervision_type") != "youth_order").select("person_id").unique()
    )
    in_prison = custody.select("person_id").unique()
    # status now: custody (open episode), deceased, unlawfully at large (some on licence), community
    open_custody = (
        custody.filter(pl.col("release_date").is_null())
        .group_by("person_id")
        .agg(pl.col("received_date").min().alias("custody_since"))
    )
    last_release = custody.group_by("person_id").agg(
        pl.col("release_date").max().alias("last_release")
    )
    on_licence = (
        supervision.filter(
            pl.col("supervision_type").is_in(["licence", "pss"]) & pl.col("end_date").is_null()
        )
        .group_by("person_id")
        .agg(pl.col("start_date").min().alias("licence_since"))
    )
    open_yo = (
        supervision.filter(
            (pl.col("supervision_type") == "youth_order") & pl.col("end_date").is_null()
        )
        .select("person_id", pl.lit(True).alias("open_youth_order"))
        .unique()
    )
    last_offence = offences.group_by("person_id").agg(
        pl.col("offence_date").max().alias("last_offence")
    )
    people = (
        people.join(open_custody, on="person_id", how="left")
        .join(last_release, on="person_id", how="left")
        .join(on_licence, on="person_id", how="left")
        .join(open_yo, on="person_id", how="left")
        .join(last_offence, on="person_id", how="left")
        .join(
            on_probation.with_columns(pl.lit(True).alias("probation")), on="person_id", how="left"
        )
        .join(in_prison.with_columns(pl.lit(True).alias("prison")), on="person_id", how="left")
        .sort("pidx")
    )
    u_ual = rng.random(n)
    u_since = rng.random(n)
    u_yos = rng.random(n)
    as_of_date = base.astype(object)
    lic_since = people["licence_since"].to_numpy()
    ual = (
        (u_ual < p.ual_share_of_licence)
        & people["licence_since"].is_not_null().to_numpy()
        & people["custody_since"].is_null().to_numpy()
        & people["date_of_death"].is_null().to_numpy()
    )
    ual_since = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if ual.any():
        span = (base - lic_since[ual].astype("datetime64[D]")).astype(int)
        ual_since[ual] = lic_since[ual].astype("datetime64[D]") + (u_since[ual] * span).astype(
            "int64"
        ).astype("timedelta64[D]")
    people = people.with_columns(pl.Series("ual", ual), pl.Series("ual_since", ual_since))
    status = (
        pl.when(pl.col("date_of_death").is_not_null())
        .then(pl.lit("deceased"))
        .when(pl.col("custody_since").is_not_null())
        .then(pl.lit("custody"))
        .when(pl.col("ual"))
        .then(pl.lit("ual"))
        .otherwise(pl.lit("community"))
    )
    since = (
        pl.when(pl.col("date_of_death").is_not_null())
        .then(pl.col("date_of_death"))
        .when(pl.col("custody_since").is_not_null())
        .then(pl.col("custody_since"))
        .when(pl.col("ual"))
        .then(pl.col("ual_since"))
        .otherwise(pl.col("last_release"))
    )
    recent_offender = pl.col("last_offence").is_not_null() & (
        pl.col("last_offence") >= pl.lit(as_of_date) - pl.duration(days=365)
    )
    alive = pl.col("date_of_death").is_null()
    yjs = (
        pl.when(alive & (pl.col("age_now") < 18) & pl.col("open_youth_order").fill_null(False))
        .then(pl.lit("yos_order"))
        .when(alive & (pl.col("age_now") >= 17.25) & (pl.col("age_now") < 18.25) & recent_offender)
        .then(pl.lit("transition"))
        .when(alive & (pl.col("age_now") < 18) & recent_offender & (pl.col("u_yos") < 0.4))
        .then(pl.lit("yos_voluntary"))
        .otherwise(pl.lit(""))
    )
    # addresses: everyone has a current one (a few prolific people have no fixed abode)
    house = rng.integers(1, 160, size=n)
    street = rng.integers(0, len(names.STREETS), size=n)
    district = np.array([names.HUB_PLACES[h][1][0] for h in names.HUB_ORDER])[hub] + rng.integers(
        0, 2, size=n
    )
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    postcode = [
        f"WX{dd} {digit}{a}{b}"
        for dd, digit, a, b in zip(
            district.tolist(),
            rng.integers(1, 10, size=n).tolist(),
            letters[rng.integers(0, len(letters), size=n)].tolist(),
            letters[rng.integers(0, len(letters), size=n)].tolist(),
            strict=True,
        )
    ]
    nfa = rng.random(n) < 0.06 * np.minimum(lam / 5.0, 1.0)
    line_1 = np.where(
        nfa,
        "No fixed abode",
        np.char.add(np.char.add(house.astype(str), " "), np.array(names.STREETS)[street]),
    )
    people = (
        people.with_columns(
            pl.Series("u_yos", u_yos),
            pl.Series("address_line_1", line_1),
            pl.Series("address_postcode", np.where(nfa, "", np.array(postcode))),
            pl.Series("nfa", nfa),
        )
        .with_columns(
            status.alias("current_status"),
            since.alias("status_since"),
            yjs.alias("youth_justice_status"),
            pl.lit("pnc").alias("source_system"),
            pl.when(pl.col("probation").fill_null(False))
            .then(pl.col("crn_all"))
            .otherwise(pl.lit(""))
            .alias("crn"),
            pl.when(pl.col("prison").fill_null(False))
            .then(pl.col("prison_all"))
            .otherwise(pl.lit(""))
            .alias("prison_number"),
            pl.col("town").alias("address_town"),
        )
        .with_columns(
            pl.when(pl.col("youth_justice_status") != "")
            .then(pl.format("Wessex YOS – {}", pl.col("town")))
            .otherwise(pl.lit(""))
            .alias("youth_justice_team")
        )
    )
    # aliases: more likely the more someone offends
    n_off = (
        offences.group_by("person_id")
        .len("n")
        .join(people.select("person_id", "pidx"), on="person_id")
        .sort("pidx")
    )
    counts = np.zeros(n, dtype=np.int64)
    counts[(n_off["pidx"].to_numpy() - start)] = n_off["n"].to_numpy()
    p_alias = 0.05 + 0.35 * np.minimum(counts / 25.0, 1.0)
    n_alias = (rng.random(n) < p_alias).astype(np.int64) * (
        1 + (rng.random(n) < 0.3) + (rng.random(n) < 0.1)
    )
    ai = np.repeat(np.arange(n), n_alias)
    kind = rng.random(len(ai))
    alias_first = np.where(kind < 0.5, first[ai], middle[ai]).astype(str)
    alias_sur = np.where(kind < 0.5, alias_surname[ai], surname[ai]).astype(str)
    shift = rng.choice([-365, -1, 1, 30, 365], size=len(ai))
    alias_dob = np.where(
        rng.random(len(ai)) < 0.35, dob[ai] + shift.astype("timedelta64[D]"), np.datetime64("NaT")
    )
    aliases = (
        pl.DataFrame(
            {
                "pidx": gidx[ai],
                "first_names": alias_first,
                "surname": alias_sur,
                "date_of_birth": alias_dob.astype("datetime64[D]"),
            }
        )
        .with_columns(
            _pid_expr().alias("person_id"), pl.int_range(1, pl.len() + 1).over("pidx").alias("k")
        )
        .with_columns(
            pl.lit("pnc").alias("source_system"),
            pl.format("{}-N{}", "person_id", "k").alias("alias_id"),
        )
        .select("source_system", "alias_id", "person_id", "first_names", "surname", "date_of_birth")
    )
    # addresses: the current one, and up to two earlier ones for people known for years
    years_known = -onset_t / YEAR
    n_prev = np.minimum((rng.random(n) * years_known / 4).astype(np.int64), 2)
    cur_from = np.floor(np.maximum(onset_t, -YEAR * rng.uniform(0.2, 4, size=n)))
    prev_i = np.repeat(np.arange(n), n_prev)
    rank = np.arange(len(prev_i)) - np.repeat(np.cumsum(n_prev) - n_prev, n_prev)
    prev_to = (
        cur_from[prev_i]
        - rng.uniform(1, 60, size=len(prev_i))
        - rank * rng.uniform(200, 700, size=len(prev_i))
    )
    prev_from = prev_to - rng.uniform(120, 900, size=len(prev_i))
    prev_line = np.char.add(
        np.char.add(rng.integers(1, 160, size=len(prev_i)).astype(str), " "),
        np.array(names.STREETS)[rng.integers(0, len(names.STREETS), size=len(prev_i))],
    )
    addr_type_cur = np.where(
        nfa, "no fixed abode", np.where(rng.random(n) < 0.8, "settled", "temporary")
    )
    addresses = (
        pl.concat(
            [
                pl.DataFrame(
                    {
                        "pidx": gidx,
                        "line_1": line_1.astype(str),
                        "town": towns[hub],
                        "postcode": np.where(nfa, "", np.array(postcode)),
                        "address_type": addr_type_cur,
                        "from_date": _dates(base, cur_from),
                        "to_date": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
                    }
                ),
                pl.DataFrame(
                    {
                        "pidx": gidx[prev_i],
                        "line_1": prev_line.astype(str),
                        "town": towns[hub[prev_i]],
                        "postcode": np.array(postcode, dtype=str)[prev_i]
                        if len(prev_i)
                        else np.zeros(0, str),
                        "address_type": np.where(
                            rng.random(len(prev_i)) < 0.7, "settled", "temporary"
                        ),
                        "from_date": _dates(base, prev_from),
                        "to_date": _dates(base, prev_to),
                    }
                ),
            ]
        )
        .sort("pidx", "from_date")
        .with_columns(
            _pid_expr().alias("person_id"), pl.int_range(1, pl.len() + 1).over("pidx").alias("k")
        )
        .with_columns(
            pl.lit("pnc").alias("source_system"),
            pl.when(pl.col("to_date").is_null())
            # the current address has the person's own id, as the importer stores it
            .then(pl.col("person_id"))
            .otherwise(pl.format("{}-H{}", "person_id", "k"))
            .alias("address_id"),
        )
    )
    addresses = addresses.select(
        "source_system",
        "address_id",
        "person_id",
        "line_1",
        "town",
        "postcode",
        "address_type",
        "from_date",
        "to_date",
    )

    people_cols = [
        "source_system",
        "person_id",
        "first_names",
        "surname",
        "date_of_birth",
        "sex",
        "ethnicity_officer_defined",
        "ethnicity_self_defined",
        "pnc_id",
        "crn",
        "prison_number",
        "hub",
        "current_status",
        "status_since",
        "date_of_death",
        "youth_justice_status",
        "youth_justice_team",
        "address_line_1",
        "address_town",
        "address_postcode",
    ]
    return people.sort("pidx").select(people_cols), aliases, addresses
