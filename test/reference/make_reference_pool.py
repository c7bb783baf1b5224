#!/usr/bin/env python3
"""Write the seeded synthetic replay pool test/fixtures/reference/pool.jsonl.

Deterministic: numpy default_rng with a fixed seed. Re-running rewrites the
same file byte for byte (for a given numpy version).
"""
import json
import math
import os

import numpy as np

SEED = 20250815
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "reference", "pool.jsonl"))

rng = np.random.default_rng(SEED)


def make_row(sharp, nvals=20, shuffle=False):
    """nvals natural log-probs: one candidate with logit `sharp`, the others
    N(0,1), normalised against an extra vocabulary-remainder mass.
    C = -mean(top 20) is about 0.95 * sharp for sharp large."""
    logits = np.empty(nvals)
    logits[0] = sharp
    logits[1:] = rng.normal(0.0, 1.0, nvals - 1)
    rest = math.log(40.0)  # remaining vocabulary mass
    allz = np.concatenate([logits, [rest]])
    mx = allz.max()
    lse = mx + math.log(np.exp(allz - mx).sum())
    lp = logits - lse
    if shuffle:
        lp = rng.permutation(lp)
    else:
        lp = np.sort(lp)[::-1]
    return [round(float(v), 6) for v in lp]


def make_trace_rows(length, mu, dips=0, dip_depth=6.0, shuffle_frac=0.1):
    """Rows for one trace: per-token sharpness is an AR(1) walk around mu,
    with `dips` low-confidence segments."""
    sharp = np.empty(length)
    x = 0.0
    for i in range(length):
        x = 0.7 * x + rng.normal(0.0, 1.3)
        sharp[i] = mu + x
    for _ in range(dips):
        if length < 4:
            break
        dl = int(rng.integers(6, 24))
        st = int(rng.integers(0, max(1, length - dl)))
        sharp[st:st + dl] -= dip_depth * rng.uniform(0.6, 1.4)
    sharp = np.clip(sharp, -2.0, 30.0)
    return [make_row(float(s), shuffle=bool(rng.random() < shuffle_frac)) for s in sharp]


def pick_answer(mu, correct, distractors, center, p_null=0.08):
    if rng.random() < p_null:
        return None
    p = 1.0 / (1.0 + math.exp(-(mu - center) / 1.2))
    if rng.random() < p:
        return correct
    return distractors[int(rng.integers(0, len(distractors)))]


def generic_instance(iid, ntr, len_lo, len_hi, mu_mean=11.0, mu_sd=2.5,
                     correct="A", distractors=("B", "C"), p_null=0.08,
                     dip_p=0.5, confident_null_first=False):
    """confident_null_first: trace 0 is the most confident one but has no
    answer, so with a high threshold (eta 10) no warmup trace votes and the
    later traces are exposed to early stopping."""
    out = []
    for k in range(ntr):
        mu = float(rng.normal(mu_mean, mu_sd))
        L = int(rng.integers(len_lo, len_hi + 1))
        dips = int(rng.random() < dip_p) + int(rng.random() < dip_p * 0.3)
        if confident_null_first and k == 0:
            mu, dips = mu_mean + 3.0 * mu_sd, 0
        rows = make_trace_rows(L, mu, dips=dips)
        ans = pick_answer(mu - 1.5 * dips, correct, list(distractors), mu_mean, p_null)
        if confident_null_first and k == 0:
            ans = None
        out.append({"instance_id": iid, "trace_id": "%s-t%02d" % (iid, k),
                    "answer": ans, "topk_logprobs": rows})
    return out


def T(iid, k, ans, rows):
    return {"instance_id": iid, "trace_id": "%s-t%02d" % (iid, k),
            "answer": ans, "topk_logprobs": rows}


records = []

# q01: plain mixed instance
records += generic_instance("q01-basic", 16, 25, 70, confident_null_first=True)

# q02: every trace gives the same answer (consensus)
iid = "q02-consensus"
for k in range(14):
    mu = float(rng.normal(13.0, 1.5))
    L = int(rng.integers(20, 61))
    records.append(T(iid, k, "42", make_trace_rows(L, mu, dips=int(rng.random() < 0.4))))

# q03: short traces (< window), exact window lengths 8/16/32, a few just above
iid = "q03-short"
lengths = [5, 16, 1, 12, 8, 3, 32, 15, 17, 7, 31, 33, 9, 10]
answers = ["A", "B", "A", None, "A", "B", "B", "A", "A", "C", "B", "A", "B", "A"]
for k, (L, a) in enumerate(zip(lengths, answers)):
    mu = float(rng.normal(11.0, 2.5))
    records.append(T(iid, k, a, make_trace_rows(L, mu, dips=int(L > 12 and rng.random() < 0.5))))

# q04: empty traces and null answers, some in the warmup positions
iid = "q04-empty-null"
spec = [(0, "A"), (45, None), (0, None), (60, "B"), (30, "A"), (52, "A"), (0, "B"),
        (70, "B"), (38, None), (44, "A"), (66, "A"), (25, "B"), (0, "A"), (58, "A")]
for k, (L, a) in enumerate(spec):
    mu = float(rng.normal(11.0 if a != "B" else 9.5, 2.0))
    records.append(T(iid, k, a, make_trace_rows(L, mu, dips=int(rng.random() < 0.5)) if L else []))

# q05: odd rows: -Infinity, NaN, null entries, values below -1e4, and
# 25-value shuffled rows whose top 20 must be selected
iid = "q05-odd-rows"
q05 = []
for k in range(10):
    L = int(rng.integers(20, 56))
    mu = float(rng.normal(11.0, 2.5))
    rows = make_trace_rows(L, mu, dips=int(rng.random() < 0.5))
    for r in range(L):
        u = rng.random()
        if u < 0.06:
            # 25 values, shuffled; the 5 extra are low so a "first 20" reader is wrong
            base = make_row(mu + float(rng.normal(0, 1.3)), nvals=20)
            extra = [round(float(v), 6) for v in (min(base) - rng.uniform(0.5, 8.0, 5))]
            if rng.random() < 0.3:
                extra[0] = -math.inf  # dropped from the top 20 after flooring
            row = list(base) + extra
            rows[r] = [row[i] for i in rng.permutation(len(row))]
        elif u < 0.09:
            rows[r] = list(rows[r])
            rows[r][int(rng.integers(0, 20))] = -math.inf
        elif u < 0.11:
            rows[r] = list(rows[r])
            rows[r][int(rng.integers(0, 20))] = math.nan
        elif u < 0.12:
            rows[r] = list(rows[r])
            rows[r][int(rng.integers(0, 20))] = None
        elif u < 0.13:
            rows[r] = list(rows[r])
            rows[r][int(rng.integers(0, 20))] = -123456.5
    ans = ["A", "B", "A", None, "B", "A", "A", "B", "C", "A"][k]
    q05.append(T(iid, k, ans, rows))
records += q05

# q06: vote-count ties (A and B 3 each, B seen first), plus a null answer
iid = "q06-ties"
for k, a in enumerate(["B", "A", "A", "B", "C", "A", "B", None]):
    mu = float(rng.normal(11.0, 2.0))
    L = int(rng.integers(24, 50))
    records.append(T(iid, k, a, make_trace_rows(L, mu, dips=int(rng.random() < 0.5))))

# q07 / q08: interleaved line by line
a07 = generic_instance("q07-interleaved-a", 10, 25, 60, correct="yes", distractors=("no",))
a08 = generic_instance("q08-interleaved-b", 10, 25, 60, correct="7", distractors=("5", "9"))
for x, y in zip(a07, a08):
    records += [x, y]

# q09: fewer traces than any warmup; the more confident trace has no answer,
# so nobody votes online (a lone voter would give beta = 1 exactly when the
# budget is reached, where "consensus" vs "budget" is a matter of reading)
iid = "q09-tiny"
records.append(T(iid, 0, None, make_trace_rows(40, 12.5, dips=0)))
records.append(T(iid, 1, "Y", make_trace_rows(50, 9.5, dips=1)))

# q10: majority comes from low-confidence traces, a confident minority disagrees
iid = "q10-disagree"
q10 = []
for k in range(18):
    right = k % 9 in (0, 3, 5, 8)  # 8 of 18
    mu = float(rng.normal(13.5 if right else 8.5, 1.2))
    L = int(rng.integers(30, 62))
    q10.append(T(iid, k, "right" if right else "wrong",
                 make_trace_rows(L, mu, dips=int(rng.random() < (0.2 if right else 0.6)))))
records += q10

# q11: long traces, one of exactly 200 tokens
iid = "q11-long"
for k, L in enumerate([200, 120, 150, 104, 180]):
    mu = float(rng.normal(11.0, 2.0))
    a = "A" if mu > 10.5 else "B"
    records.append(T(iid, k, a, make_trace_rows(L, mu, dips=1 + int(rng.random() < 0.5))))

# q12: many short-ish traces (budget limits bite)
records += generic_instance("q12-many", 30, 17, 31, correct="P", distractors=("Q", "R"),
                            confident_null_first=True)

# q13: 5 traces (fewer than warmup 6)
records += generic_instance("q13-five", 5, 20, 50, correct="A", distractors=("B",))

# q14: nobody can vote: empty traces and null answers only
iid = "q14-allnull"
for k, L in enumerate([0, 22, 0, 15, 30, 0]):
    mu = float(rng.normal(11.0, 2.0))
    records.append(T(iid, k, None, make_trace_rows(L, mu) if L else []))

# q15: the whole warmup is empty -> threshold null, nothing stopped
iid = "q15-empty-warmup"
for k in range(6):
    records.append(T(iid, k, "A" if k % 2 else None, []))
for k in range(6, 16):
    mu = float(rng.normal(11.0, 2.5))
    L = int(rng.integers(20, 50))
    records.append(T(iid, k, pick_answer(mu, "A", ["B"], 11.0, 0.1),
                     make_trace_rows(L, mu, dips=int(rng.random() < 0.5))))

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w", encoding="utf-8") as fh:
    for rec in records:
        fh.write(json.dumps(rec) + "\n")

ntok = sum(len(r["topk_logprobs"]) for r in records)
print("wrote %s: %d traces, %d tokens, %d bytes"
      % (OUT, len(records), ntok, os.path.getsize(OUT)))
