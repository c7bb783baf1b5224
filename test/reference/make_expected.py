#!/usr/bin/env python3
"""Write test/fixtures/reference/expected-<name>.json for every parameter set,
by running deepconf_reference.py on pool.jsonl, and print a summary
(stops fired, consensus stops, offline disagreements, decision margins)."""
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, "..", "fixtures", "reference"))
POOL = os.path.join(FIX, "pool.jsonl")
REF = os.path.join(HERE, "deepconf_reference.py")

SETS = {
    "low-w16": ["--window", "16", "--topk", "20", "--tail", "16", "--eta", "10",
                "--warmup", "4", "--tau", "0.95"],
    "high-w16": ["--window", "16", "--topk", "20", "--tail", "16", "--eta", "90",
                 "--warmup", "4", "--tau", "0.95"],
    "low-w32-notau": ["--window", "32", "--topk", "20", "--tail", "8", "--eta", "10",
                      "--warmup", "6", "--budget", "12", "--tau", "1"],
    "high-k5": ["--window", "8", "--topk", "5", "--tail", "12", "--eta", "90",
                "--warmup", "3", "--budget", "20", "--tau", "0.8"],
}

OFFLINE_KEYS = ["majority", "mean_weighted", "tail_weighted", "bottom10_weighted",
                "lowest_weighted", "tail_top", "bottom10_top", "lowest_top"]


def main():
    sys.path.insert(0, HERE)
    import deepconf_reference as ref  # for the margin diagnostics only

    pool = ref.read_pool(POOL)
    ok = True
    for name, args in SETS.items():
        out = subprocess.run([sys.executable, REF, POOL] + args, check=True,
                             capture_output=True, text=True).stdout
        res = json.loads(out)
        path = os.path.join(FIX, "expected-%s.json" % name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(out)

        # decision margins (same computation, with diagnostics on)
        p = ref.main.__globals__["argparse"].ArgumentParser()
        for a in ("--window", "--topk", "--tail", "--warmup", "--budget"):
            p.add_argument(a, type=int, default=None)
        for a in ("--eta", "--tau"):
            p.add_argument(a, type=ref._num)
        ns = p.parse_args(args)
        diag = ref.Diagnostics()
        ref.replay(pool, ns.window, ns.topk, ns.tail, ns.eta, ns.warmup,
                   ns.budget, ns.tau, diag)

        insts = res["instances"]
        stops = sum(len(i["online"]["stopped"]) for i in insts)
        stop_insts = sum(1 for i in insts if i["online"]["stopped"])
        cons = [i["instance_id"] for i in insts if i["online"]["stop_reason"] == "consensus"]
        disagree = [i["instance_id"] for i in insts
                    if len({i["offline"][k] for k in OFFLINE_KEYS}) > 1]
        on_vs_base = sum(1 for i in insts
                         if i["online"]["answer"] != i["online"]["baseline_answer"])
        null_thr = sum(1 for i in insts if i["online"]["threshold"] is None)
        t = res["totals"]
        print("%-14s stops=%d (in %d instances)  consensus_stops=%d %s  "
              "offline_disagree=%d %s  online!=baseline=%d  null_threshold=%d  "
              "tokens %d/%d savings=%.4f"
              % (name, stops, stop_insts, len(cons), cons, len(disagree), disagree,
                 on_vs_base, null_thr, t["tokens_used"], t["tokens_baseline"],
                 t["savings"] if t["savings"] is not None else float("nan")))
        print("%-14s margins: min rel |value-threshold|=%.3g  min rel weighted-vote gap=%.3g  "
              "exact vote ties=%d  consensus exactly at budget=%d"
              % ("", diag.min_cmp_rel, diag.min_vote_rel, diag.exact_vote_ties,
                 diag.consensus_at_budget))
        if diag.min_cmp_rel < 1e-9 or diag.min_vote_rel < 1e-9:
            print("WARNING: a decision in %s is within 1e-9 of its threshold" % name)
            ok = False
        if "Infinity" in out or "NaN" in out:
            print("ERROR: non-finite number in %s" % path)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
