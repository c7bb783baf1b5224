#!/usr/bin/env python3
"""Independent numpy reference of the DeepConf replay computation.

Written only from shared/docs/deepconf.md and the rules listed in README.md
(it deliberately does not mirror the TypeScript implementation).

Usage:
  python3 deepconf_reference.py POOL.jsonl --window N --topk K --tail T \
      --eta E --warmup W [--budget B] --tau X [--min-voters M]
prints the expected JSON to stdout.
"""
import argparse
import json
import math
import sys

import numpy as np

FLOOR = -1e4


# ---------------------------------------------------------------- reading

def read_pool(path):
    """Return a list of instances [(instance_id, [trace dict, ...])] in order
    of first appearance; traces keep file order within their instance."""
    order = []
    by_id = {}
    with open(path, "r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rec = json.loads(line)  # Python's json accepts -Infinity / NaN
            iid = rec["instance_id"]
            if iid not in by_id:
                by_id[iid] = []
                order.append(iid)
            by_id[iid].append({
                "trace_id": rec["trace_id"],
                "answer": rec.get("answer"),
                "rows": rec["topk_logprobs"],
            })
    return [(iid, by_id[iid]) for iid in order]


# ------------------------------------------------------- per-token confidence

def token_confidence(row, k):
    """C = -(1/k) * sum of the k largest log-probs of the row, after flooring
    -Infinity / NaN / null / anything below -1e4 at -1e4."""
    vals = np.array([-math.inf if v is None else float(v) for v in row],
                    dtype=np.float64)
    bad = np.isnan(vals) | (vals < FLOOR)
    vals = np.where(bad, FLOOR, vals)
    if vals.size < k:
        raise ValueError("row has %d values, fewer than topk=%d" % (vals.size, k))
    top = np.sort(vals)[::-1][:k]
    return float(-np.mean(top))


def token_confidences(rows, k):
    return np.array([token_confidence(r, k) for r in rows], dtype=np.float64)


# ----------------------------------------------------- trace-level confidences

def group_confidences(C, n):
    """Stride-1 windows, each mean computed directly from its slice."""
    L = len(C)
    if L == 0:
        return []
    if L < n:
        return [float(np.mean(C))]
    return [float(np.mean(C[j:j + n])) for j in range(L - n + 1)]


def trace_stats(C, n, t):
    L = len(C)
    if L == 0:
        return {"tokens": 0, "mean": None, "lowest": None,
                "bottom10": None, "tail": None}
    G = group_confidences(C, n)
    m = max(1, int(math.floor(0.1 * len(G))))
    bottom10 = float(np.mean(np.sort(np.array(G))[:m]))
    return {
        "tokens": L,
        "mean": float(np.mean(C)),
        "lowest": float(np.min(np.array(G))),
        "bottom10": bottom10,
        "tail": float(np.mean(C[L - min(L, t):])),
    }


# ------------------------------------------------------------------ voting

def weighted_vote(items):
    """items: [(answer, weight)] in trace order (only voting traces).
    Returns (answer, V dict in first-appearance order). Ties -> first seen."""
    V = {}
    for ans, w in items:
        V[ans] = V.get(ans, 0.0) + w
    best = None
    best_v = None
    for ans, v in V.items():  # insertion order = first appearance
        if best is None or v > best_v:
            best, best_v = ans, v
    return best, V


def percentile(values, eta):
    return float(np.percentile(np.array(values, dtype=np.float64), 100 - eta))


# ----------------------------------------------------------------- offline

def offline(traces, stats, eta, diag=None):
    res = {}
    voters = [i for i, tr in enumerate(traces)
              if stats[i]["tokens"] > 0 and tr["answer"] is not None]
    nonempty = [i for i in range(len(traces)) if stats[i]["tokens"] > 0]

    res["majority"] = weighted_vote([(traces[i]["answer"], 1.0) for i in voters])[0]
    for key in ("mean", "tail", "bottom10", "lowest"):
        ans, V = weighted_vote([(traces[i]["answer"], stats[i][key]) for i in voters])
        res[key + "_weighted"] = ans
        if diag is not None:
            diag.vote_gap(V)
    for key in ("tail", "bottom10", "lowest"):
        if not nonempty:
            res[key + "_top"] = None
            continue
        thr = percentile([stats[i][key] for i in nonempty], eta)
        kept = [i for i in voters if stats[i][key] >= thr]
        if diag is not None:
            for i in nonempty:
                diag.compare(stats[i][key], thr)
        ans, V = weighted_vote([(traces[i]["answer"], stats[i][key]) for i in kept])
        res[key + "_top"] = ans
        if diag is not None:
            diag.vote_gap(V)
    return res


# ------------------------------------------------------------------ online

def online(traces, confs, stats, n, t, eta, warmup, budget, tau, min_voters,
           diag=None):
    N = len(traces)
    B_eff = N if budget is None else min(budget, N)
    W_eff = min(warmup, B_eff)

    warm_lows = [stats[i]["lowest"] for i in range(W_eff) if stats[i]["tokens"] > 0]
    s = percentile(warm_lows, eta) if warm_lows else None

    votes = []      # (answer, weight) of voting traces, order taken
    voted = []
    stopped = []
    tokens_used = 0
    taken = 0

    def maybe_vote(i):
        st = stats[i]
        if st["tokens"] == 0 or traces[i]["answer"] is None:
            return
        if s is not None:
            if diag is not None:
                diag.compare(st["lowest"], s)
            if not (st["lowest"] >= s):
                return
        votes.append((traces[i]["answer"], st["lowest"]))
        voted.append(traces[i]["trace_id"])

    def beta():
        if not votes:
            return None
        best, V = weighted_vote(votes)
        total = sum(V.values())
        if not total > 0:
            return None
        return V[best] / total

    def consensus_reached():
        """Rule 5: the check runs only when at least min_voters traces vote;
        tau >= 1 disables the consensus stop."""
        if tau >= 1:
            return False
        b = beta()
        if b is None:
            return False
        if len(votes) < min_voters:
            if diag is not None and b >= tau:
                diag.consensus_needs_voters += 1  # the guard kept sampling going
            return False
        if diag is not None:
            diag.compare(b, tau)
        return b >= tau

    # warmup: run to completion, never stopped
    for i in range(W_eff):
        tokens_used += stats[i]["tokens"]
        maybe_vote(i)
    taken = W_eff

    stop_reason = "budget"
    if consensus_reached():
        stop_reason = "consensus"
    else:
        while taken < B_eff:
            i = taken
            taken += 1
            C = confs[i]
            L = len(C)
            stop_at = None
            if s is not None and L >= n:
                for j in range(L - n + 1):
                    g = float(np.mean(C[j:j + n]))
                    if diag is not None:
                        diag.compare(g, s)
                    if g < s:
                        stop_at = j
                        break
            if stop_at is not None:
                tokens_used += stop_at + n
                stopped.append(traces[i]["trace_id"])
            else:
                tokens_used += L
                maybe_vote(i)
            if consensus_reached():
                stop_reason = "consensus"
                if diag is not None and taken == B_eff:
                    diag.consensus_at_budget += 1
                break
    if diag is not None and stop_reason == "consensus" and taken == B_eff and W_eff == B_eff:
        diag.consensus_at_budget += 1

    answer, V = weighted_vote(votes)
    if diag is not None and votes:
        diag.vote_gap(V)
    baseline_items = [(traces[i]["answer"], 1.0) for i in range(B_eff)
                      if stats[i]["tokens"] > 0 and traces[i]["answer"] is not None]
    baseline_answer = weighted_vote(baseline_items)[0]
    tokens_baseline = int(sum(stats[i]["tokens"] for i in range(B_eff)))

    return {
        "threshold": s,
        "answer": answer,
        "traces_used": taken,
        "tokens_used": int(tokens_used),
        "tokens_baseline": tokens_baseline,
        "stopped": stopped,
        "voted": voted,
        "consensus": beta(),
        "budget": B_eff,
        "baseline_answer": baseline_answer,
        "stop_reason": stop_reason,
    }


# -------------------------------------------------------------- diagnostics

class Diagnostics:
    """Records how close each decision was, so the fixture can be checked
    for robustness against last-ulp differences between implementations."""

    def __init__(self):
        self.min_cmp_rel = math.inf     # min |a-b|/max(1,|b|) over threshold comparisons
        self.min_vote_rel = math.inf    # min relative gap best vs second (non-exact ties)
        self.exact_vote_ties = 0
        self.consensus_at_budget = 0
        self.consensus_needs_voters = 0  # checks with beta >= tau but < min_voters voters

    def compare(self, a, b):
        rel = abs(a - b) / max(1.0, abs(b))
        self.min_cmp_rel = min(self.min_cmp_rel, rel)

    def vote_gap(self, V):
        vals = sorted(V.values(), reverse=True)
        if len(vals) < 2:
            return
        if vals[0] == vals[1]:
            self.exact_vote_ties += 1
            return
        rel = (vals[0] - vals[1]) / max(1.0, abs(vals[0]))
        self.min_vote_rel = min(self.min_vote_rel, rel)


# -------------------------------------------------------------------- main

def replay(instances, window, topk, tail, eta, warmup, budget, tau, min_voters=2,
           diag=None):
    out_instances = []
    tot_used = 0
    tot_base = 0
    for iid, traces in instances:
        confs = [token_confidences(tr["rows"], topk) for tr in traces]
        stats = [trace_stats(C, window, tail) for C in confs]
        tr_out = []
        for tr, st in zip(traces, stats):
            d = {"trace_id": tr["trace_id"]}
            d.update(st)
            tr_out.append(d)
        off = offline(traces, stats, eta, diag)
        on = online(traces, confs, stats, window, tail, eta, warmup, budget, tau,
                    min_voters, diag)
        tot_used += on["tokens_used"]
        tot_base += on["tokens_baseline"]
        out_instances.append({"instance_id": iid, "traces": tr_out,
                              "offline": off, "online": on})
    return {
        "params": {"window": window, "topk": topk, "tail": tail, "eta": eta,
                   "warmup": warmup, "budget": budget, "tau": tau,
                   "min_voters": min_voters},
        "instances": out_instances,
        "totals": {"tokens_used": tot_used, "tokens_baseline": tot_base,
                   "savings": (1 - tot_used / tot_base) if tot_base > 0 else None},
    }


def _num(s):
    v = float(s)
    if v.is_integer() and not any(c in s for c in ".eE"):
        return int(s)
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pool")
    ap.add_argument("--window", type=int, required=True)
    ap.add_argument("--topk", type=int, required=True)
    ap.add_argument("--tail", type=int, required=True)
    ap.add_argument("--eta", type=_num, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--tau", type=_num, required=True)
    ap.add_argument("--min-voters", type=int, default=2,
                    help="voting traces needed before beta is checked (default 2)")
    a = ap.parse_args(argv)
    if a.min_voters < 1:
        ap.error("--min-voters must be >= 1")
    res = replay(read_pool(a.pool), a.window, a.topk, a.tail, a.eta,
                 a.warmup, a.budget, a.tau, a.min_voters)
    sys.stdout.write(json.dumps(res, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
