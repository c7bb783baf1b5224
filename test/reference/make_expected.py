#!/usr/bin/env python3
"""Write test/fixtures/reference/expected-<name>.json for every parameter set,
by running deepconf_reference.py on pool.jsonl, and print a summary
(stops fired, consensus stops, offline disagreements, decision margins) and
the checks that the fixtures exercise the min_voters guard of rule 5.
Exits 1 if a check fails or a decision is within 1e-9 of its threshold."""
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, "..", "fixtures", "reference"))
POOL = os.path.join(FIX, "pool.jsonl")
REF = os.path.join(HERE, "deepconf_reference.py")

# Every set names its min_voters explicitly (the reference's default is 2).
LOW_W16 = ["--window", "16", "--topk", "20", "--tail", "16", "--eta", "10",
           "--warmup", "4", "--tau", "0.95"]
HIGH_K5 = ["--window", "8", "--topk", "5", "--tail", "12", "--eta", "90",
           "--warmup", "3", "--budget", "20", "--tau", "0.8"]
SETS = {
    "low-w16": LOW_W16 + ["--min-voters", "2"],
    "high-w16": ["--window", "16", "--topk", "20", "--tail", "16", "--eta", "90",
                 "--warmup", "4", "--tau", "0.95", "--min-voters", "2"],
    "low-w32-notau": ["--window", "32", "--topk", "20", "--tail", "8", "--eta", "10",
                      "--warmup", "6", "--budget", "12", "--tau", "1",
                      "--min-voters", "2"],
    "high-k5": HIGH_K5 + ["--min-voters", "2"],
    # the old rule (no guard): a single voter (beta = 1) may end sampling
    "low-w16-m1": LOW_W16 + ["--min-voters", "1"],
    # a stricter guard, with tau 0.8 so that two agreeing voters are not enough
    "high-k5-m3": HIGH_K5 + ["--min-voters", "3"],
}

# pairs (set, same parameters with another min_voters) whose online results must differ
GUARD_PAIRS = [("low-w16", "low-w16-m1"), ("high-k5-m3", "high-k5")]

ONLINE_SHAPE = ("traces_used", "stopped", "stop_reason")

OFFLINE_KEYS = ["majority", "mean_weighted", "tail_weighted", "bottom10_weighted",
                "lowest_weighted", "tail_top", "bottom10_top", "lowest_top"]


def main():
    sys.path.insert(0, HERE)
    import deepconf_reference as ref  # for the margin diagnostics only

    pool = ref.read_pool(POOL)
    ok = True
    results = {}
    for name, args in SETS.items():
        out = subprocess.run([sys.executable, REF, POOL] + args, check=True,
                             capture_output=True, text=True).stdout
        res = json.loads(out)
        results[name] = res
        path = os.path.join(FIX, "expected-%s.json" % name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(out)

        # decision margins (same computation, with diagnostics on)
        p = ref.main.__globals__["argparse"].ArgumentParser()
        for a in ("--window", "--topk", "--tail", "--warmup", "--budget", "--min-voters"):
            p.add_argument(a, type=int, default=None)
        for a in ("--eta", "--tau"):
            p.add_argument(a, type=ref._num)
        ns = p.parse_args(args)
        diag = ref.Diagnostics()
        ref.replay(pool, ns.window, ns.topk, ns.tail, ns.eta, ns.warmup,
                   ns.budget, ns.tau, ns.min_voters, diag)

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
        few_voters = [i["instance_id"] for i in insts
                      if i["online"]["stop_reason"] == "consensus"
                      and len(i["online"]["voted"]) < res["params"]["min_voters"]]
        print("%-14s M=%d stops=%d (in %d instances)  consensus_stops=%d %s  "
              "offline_disagree=%d %s  online!=baseline=%d  null_threshold=%d  "
              "tokens %d/%d savings=%.4f"
              % (name, res["params"]["min_voters"], stops, stop_insts, len(cons), cons, len(disagree), disagree,
                 on_vs_base, null_thr, t["tokens_used"], t["tokens_baseline"],
                 t["savings"] if t["savings"] is not None else float("nan")))
        print("%-14s margins: min rel |value-threshold|=%.3g  min rel weighted-vote gap=%.3g  "
              "exact vote ties=%d  consensus exactly at budget=%d  "
              "consensus needs voters=%d"
              % ("", diag.min_cmp_rel, diag.min_vote_rel, diag.exact_vote_ties,
                 diag.consensus_at_budget, diag.consensus_needs_voters))
        if few_voters:
            print("ERROR: consensus stop with fewer than min_voters voters in %s: %s"
                  % (name, few_voters))
            ok = False
        if diag.min_cmp_rel < 1e-9 or diag.min_vote_rel < 1e-9:
            print("WARNING: a decision in %s is within 1e-9 of its threshold" % name)
            ok = False
        if "Infinity" in out or "NaN" in out:
            print("ERROR: non-finite number in %s" % path)
            ok = False

    # The fixtures must exercise the min_voters guard of rule 5.
    for a, b in GUARD_PAIRS:
        diff = [ia["instance_id"]
                for ia, ib in zip(results[a]["instances"], results[b]["instances"])
                if any(ia["online"][k] != ib["online"][k] for k in ONLINE_SHAPE)]
        print("guard: %s (M=%d) vs %s (M=%d): %d instances differ in %s %s"
              % (a, results[a]["params"]["min_voters"], b,
                 results[b]["params"]["min_voters"], len(diff), "/".join(ONLINE_SHAPE), diff))
        if not diff:
            print("ERROR: min_voters makes no difference between %s and %s" % (a, b))
            ok = False
    for name, res in results.items():
        p = res["params"]
        if p["eta"] == 10 and p["min_voters"] >= 2:
            stops = sum(len(i["online"]["stopped"]) for i in res["instances"])
            print("guard: DeepConf-low %s (M=%d) stops %d traces early"
                  % (name, p["min_voters"], stops))
            if stops == 0:
                print("ERROR: DeepConf-low %s stops no trace early" % name)
                ok = False
    cons_sets = [name for name, res in results.items()
                 if res["params"]["min_voters"] >= 2
                 and any(i["online"]["stop_reason"] == "consensus" for i in res["instances"])]
    print("guard: sets with M >= 2 that have consensus stops: %s" % cons_sets)
    if not cons_sets:
        print("ERROR: no set with min_voters >= 2 has a consensus stop")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
