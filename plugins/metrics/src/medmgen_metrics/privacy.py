"""``privacy_risk`` metrics: how much a synthetic table gives away about real rows.

Distances are Euclidean on :meth:`Pair.distance_matrix` rows (numbers scaled to [0, 1]
by the real range, a differing category adds 1 to the squared distance), on
:attr:`Pair.distance_names`: identifier columns and wide categorical ones (more than
``[evaluation] onehot_levels`` values) are left out, so memory stays bounded. "Train" is
the real table minus the holdout; the holdout is what a fresh real sample looks like,
so every distance-based metric has a holdout baseline beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve

from medmgen_metrics.neighbours import nearest
from medmgen_metrics.tables import Pair, sample

HEADLINE = {"exact_copy_rate": True, "exact_copy_excess": True, "dcr_train_share": True, "mia_auc": True,
            "mia_advantage": True, "singling_out_risk": True, "linkability_risk": True, "inference_risk_max": True}
INFERENCE_TOLERANCE = 0.05  # a numeric guess is right within this share of the real range
EXPOSED_SCORE = 0.99  # a record closer to the synthetic data than 99% of fresh records is exposed


# ------------------------------------------------------------------ pieces
def copy_rate(rows: np.ndarray, reference: np.ndarray) -> float:
    """Share of ``rows`` hashes that occur in ``reference``."""
    return float(np.isin(rows, reference).mean()) if len(rows) else 0.0


def membership_attack(member_dist: np.ndarray, other_dist: np.ndarray) -> dict[str, Any]:
    """A distance attack: the closer a record is to a synthetic one, the likelier a member."""
    labels = np.r_[np.ones(len(member_dist)), np.zeros(len(other_dist))]
    score = -np.r_[member_dist, other_dist]
    fpr, tpr, _ = roc_curve(labels, score)
    return {"auc": float(roc_auc_score(labels, score)), "advantage": float(np.max(tpr - fpr)),
            "tpr_at_fpr_1pct": float(np.interp(0.01, fpr, tpr)), "fpr": fpr, "tpr": tpr}


def membership_score(dcr: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Share of ``baseline`` (non-member) distances larger than each ``dcr`` (ties count half).

    0.5 is a typical fresh record; 1 is a record closer to the synthetic data than any
    record the generator never saw.
    """
    ordered = np.sort(baseline)
    below_or_at = np.searchsorted(ordered, dcr, side="right")
    below = np.searchsorted(ordered, dcr, side="left")
    return (len(ordered) - below_or_at + 0.5 * (below_or_at - below)) / max(len(ordered), 1)


def risk(successes: int, control_successes: int, attacks: int, confidence: float = 0.95) -> dict[str, Any]:
    """Anonymeter-style risk: attack success beyond the control rate, scaled to [0, 1], with a Wilson CI."""
    main = successes / attacks
    control = control_successes / attacks
    ci = stats.binomtest(successes, attacks).proportion_ci(confidence_level=confidence, method="wilson")

    def scale(rate: float) -> float:
        return 0.0 if control >= 1 else round(min(max((float(rate) - control) / (1 - control), 0.0), 1.0), 6)

    return {"risk": scale(main), "ci": [scale(ci.low), scale(ci.high)],
            "attack_rate": round(main, 6), "control_rate": round(control, 6), "attacks": attacks}


def attack_codes(pair: Pair, synth: pd.DataFrame, *frames: pd.DataFrame) -> list[np.ndarray]:
    """Codes an attacker can form from the synthetic table alone.

    Like :meth:`Pair.codes`, except that binned numeric columns are cut at quantiles of
    the synthetic column: bins taken from the real training rows would treat training
    and control rows differently and bias the attack.
    """
    out = [np.zeros((len(f), len(pair.columns)), dtype=np.int64) for f in (synth, *frames)]
    for j, col in enumerate(pair.columns):
        if col.edges is None:
            for o, f in zip(out, (synth, *frames)):
                o[:, j] = col.codes(f[col.name])
            continue
        s = col.comparable(synth[col.name])
        s = s[~np.isnan(s)]
        edges = np.unique(np.quantile(s, np.linspace(0, 1, pair.cfg.bins + 1)[1:-1])) if len(s) else np.zeros(0)
        for o, f in zip(out, (synth, *frames)):
            x = col.comparable(f[col.name])
            o[:, j] = np.where(np.isnan(x), len(edges) + 1, np.searchsorted(edges, x, side="right"))
    return out


def singling_out(synth: np.ndarray, train: np.ndarray, control: np.ndarray, attacks: int,
                 rng: np.random.Generator) -> dict[str, Any]:
    """Predicates (equal codes on some columns) that single out one synthetic row; do they single out a real one?

    Each predicate starts from a random synthetic row and adds its columns in a random
    order until it matches that row alone in the synthetic sample. It succeeds on a
    table when it matches exactly one of its rows: on the real training rows (attack)
    or on as many holdout rows (control).
    """
    wins = [0, 0]
    made = 0
    for _ in range(attacks):
        row = synth[rng.integers(len(synth))]
        alive = np.ones(len(synth), dtype=bool)
        chosen = []
        for c in rng.permutation(synth.shape[1]):
            alive &= synth[:, c] == row[c]
            chosen.append(c)
            if alive.sum() == 1:
                break
        if alive.sum() != 1:
            continue
        made += 1
        for k, table in enumerate((train, control)):
            if np.count_nonzero(np.all(table[:, chosen] == row[chosen], axis=1)) == 1:
                wins[k] += 1
    out = risk(wins[0], wins[1], made) if made else {"risk": 0.0, "ci": [0.0, 0.0], "attacks": 0}
    return out | {"predicates": made}


def linkability(pair: Pair, synth: pd.DataFrame, targets: pd.DataFrame, control: pd.DataFrame,
                rng: np.random.Generator) -> dict[str, Any]:
    """Link two halves of a real record through the synthetic table.

    The columns are split at random into two halves an attacker holds separately; an
    attack succeeds when both halves of a target have the same nearest synthetic row.
    """
    names = pair.distance_names
    order = rng.permutation(len(names))
    halves = [[names[i] for i in sorted(order[: len(names) // 2])], [names[i] for i in sorted(order[len(names) // 2:])]]
    wins = []
    for table in (targets, control):
        found = [nearest(pair.distance_matrix(synth, h), pair.distance_matrix(table, h))[1][:, 0] for h in halves]
        wins.append(int(np.count_nonzero(found[0] == found[1])))
    return risk(wins[0], wins[1], len(targets)) | {"columns": halves}


def inference(pair: Pair, synth: pd.DataFrame, targets: pd.DataFrame, control: pd.DataFrame) -> dict[str, Any]:
    """Guess each column of a real record from the nearest synthetic row on the other columns."""
    per = {}
    for col in pair.columns:
        others = [n for n in pair.distance_names if n != col.name]
        if not others:
            continue
        truth = synth[col.name]
        wins = []
        for table in (targets, control):
            pos = nearest(pair.distance_matrix(synth, others), pair.distance_matrix(table, others))[1][:, 0]
            guess = truth.iloc[pos]
            if col.categorical:
                hit = col.codes(guess) == col.codes(table[col.name])
            else:
                tol = INFERENCE_TOLERANCE * max(col.high - col.low, 0.0)
                hit = np.abs(col.comparable(guess) - col.comparable(table[col.name])) <= tol
            wins.append(int(np.count_nonzero(hit)))
        per[col.name] = risk(wins[0], wins[1], len(targets))
    return per


# ------------------------------------------------------------------ block
def block_metrics(pair: Pair) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Every privacy-risk metric of one block, and the arrays its figures need."""
    cfg = pair.cfg
    out: dict[str, Any] = {"real_file": pair.real_file, "holdout": pair.holdout_source,
                           "identifiers": pair.identifiers, "wide": [c.name for c in pair.columns if c.wide]}
    if len(pair.train) < 2 or len(pair.holdout) < 2 or len(pair.synthetic) < 2:
        return out | {"skipped": "fewer than 2 rows in the train, holdout or synthetic table"}, {}
    if not pair.columns:
        return out | {"skipped": "no column to compare but identifiers"}, {}
    train_h, hold_h = (pair.row_hashes(f) for f in (pair.train, pair.holdout))
    synth_rows = pair.tally()  # every synthetic row, streamed: those equal to a real row, counted by hash
    out["exact_copy_rate"] = round(synth_rows.copy_count(train_h) / len(pair.synthetic), 6)
    out["exact_copy_baseline"] = round(copy_rate(hold_h, train_h), 6)
    out["exact_copy_excess"] = round(max(out["exact_copy_rate"] - out["exact_copy_baseline"], 0.0), 6)
    if not pair.distance_names:
        return out | {"skipped_distances": "every compared column is wide (more than [evaluation] onehot_levels "
                                           "values)"}, {}

    train = sample(pair.train, cfg.max_rows, pair.rng(5))
    synth = pair.sample(cfg.max_rows, 6)
    hold = sample(pair.holdout, cfg.max_rows, pair.rng(7))
    m = min(len(train), len(hold))
    member_pos = np.sort(pair.rng(8).permutation(len(train))[:m])
    members = train.iloc[member_pos]  # the rows the membership attack targets
    hold = hold.iloc[:m]
    out["rows"] = {"train": len(train), "synthetic": len(synth), "holdout": len(hold), "members": m}
    out["sampling"] = (f"at most [evaluation] max_rows = {cfg.max_rows} rows of each table, seed {cfg.seed}; "
                       f"exact copies counted on all rows")
    xt, xs, xh, xm = (pair.distance_matrix(f) for f in (train, synth, hold, members))

    d_syn, _ = nearest(xt, xs, 2)
    d_hold, _ = nearest(xt, xh, 2)
    out |= _distance_summary("dcr", d_syn[:, 0]) | _distance_summary("dcr_baseline", d_hold[:, 0])
    out["dcr_zero_share"] = round(float(np.mean(d_syn[:, 0] == 0)), 6)
    if d_syn.shape[1] > 1:
        out["nndr_median"] = round(float(np.median(_ratio(d_syn))), 6)
        out["nndr_baseline_median"] = round(float(np.median(_ratio(d_hold))), 6)
    to_members = nearest(xm, xs)[0][:, 0]
    to_hold = nearest(xh, xs)[0][:, 0]
    out["dcr_train_share"] = round(float(np.mean((to_members < to_hold) + 0.5 * (to_members == to_hold))), 6)

    # the attacker searches (up to) 5 x max_rows synthetic rows for (up to) max_rows / 5 members and as
    # many holdout rows: the same cost as the searches above, and a copy is rarely lost to sampling
    index = pair.distance_matrix(pair.sample(5 * cfg.max_rows, 12))
    q = min(m, max(cfg.max_rows // 5, 1))
    picked = np.sort(pair.rng(13).permutation(m)[:q])
    hold_picked = np.sort(pair.rng(14).permutation(m)[:q])
    exposure = nearest(index, xm[picked])[0][:, 0]
    baseline = nearest(index, xh[hold_picked])[0][:, 0]
    mia = membership_attack(exposure, baseline)
    out |= {"mia_auc": round(mia["auc"], 6), "mia_advantage": round(mia["advantage"], 6),
            "mia_tpr_at_fpr_1pct": round(mia["tpr_at_fpr_1pct"], 6)}
    out["rows"] |= {"mia_synthetic": len(index), "mia_members": q, "mia_holdout": q}

    rows = members.index.to_numpy()[picked]
    worst_rows = np.argsort(exposure, kind="stable")[:10]
    out["most_exposed"] = [{"row": int(rows[i]), "distance": round(float(exposure[i]), 6)} for i in worst_rows]
    attacked = (members.iloc[picked], hold.iloc[hold_picked])
    dcr = np.r_[exposure, baseline]
    score = membership_score(dcr, baseline)
    copied = synth_rows.copied(np.concatenate([pair.row_hashes(f) for f in attacked]))
    records = {"set": np.repeat(np.array(["train", "holdout"], dtype=object), q),
               "row": np.concatenate([f.index.to_numpy(dtype=np.int64) for f in attacked]),
               "dcr": dcr, "membership_score": score, "exact_copy": copied,
               "exposed": copied | (score >= EXPOSED_SCORE)}
    out["records_exposed"] = {s: int(np.count_nonzero(records["exposed"][records["set"] == s]))
                              for s in ("train", "holdout")}

    n_att = min(cfg.attacks, m)
    rng = pair.rng(9)
    targets = members.iloc[np.sort(rng.permutation(m)[:n_att])]
    control = hold.iloc[np.sort(rng.permutation(m)[:n_att])]
    so = singling_out(*attack_codes(pair, synth, members, hold), n_att, pair.rng(10))
    out["singling_out"] = so
    out["singling_out_risk"] = so["risk"]
    if len(pair.distance_names) > 1:
        link = linkability(pair, synth, targets, control, pair.rng(11))
        out["linkability"] = link
        out["linkability_risk"] = link["risk"]
    inf = inference(pair, synth, targets, control)
    if inf:
        out["inference"] = inf
        out["inference_risk_max"] = max(v["risk"] for v in inf.values())
        out["inference_risk_mean"] = round(float(np.mean([v["risk"] for v in inf.values()])), 6)
    return out, {"dcr": d_syn[:, 0], "dcr_baseline": d_hold[:, 0], "fpr": mia["fpr"], "tpr": mia["tpr"],
                 "records": records}


def records_table(per_block: Mapping[str, Mapping[str, np.ndarray]]) -> pa.Table:
    """The saved per-record scores: the records of every block, one after the other."""
    cols: dict[str, list[np.ndarray]] = {"block": []}
    for block, rec in per_block.items():
        cols["block"].append(np.full(len(rec["row"]), block, dtype=object))
        for key, values in rec.items():
            cols.setdefault(key, []).append(values)
    types = {"block": pa.string(), "set": pa.string(), "row": pa.int64(), "dcr": pa.float64(),
             "membership_score": pa.float64(), "exact_copy": pa.bool_(), "exposed": pa.bool_()}
    return pa.table({k: pa.array(np.concatenate(cols[k]), type=t) for k, t in types.items()})


def _ratio(d: np.ndarray) -> np.ndarray:
    return np.where(d[:, 1] > 0, d[:, 0] / np.where(d[:, 1] > 0, d[:, 1], 1.0), 1.0)


def _distance_summary(prefix: str, d: np.ndarray) -> dict[str, float]:
    return {f"{prefix}_median": round(float(np.median(d)), 6), f"{prefix}_p05": round(float(np.quantile(d, 0.05)), 6)}
