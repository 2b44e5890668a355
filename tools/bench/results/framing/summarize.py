#!/usr/bin/env python3
"""Summarize the framing rounds (run.sh): per feed, p50/p99 of own and tungstenite per round,
the tg/own ratio per round, and the medians and ranges over the rounds."""
import json, glob, re, statistics, sys, os

d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
rounds = []
for p in sorted(glob.glob(os.path.join(d, "round*.json")), key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0])):
    n = int(re.findall(r"\d+", os.path.basename(p))[0])
    doc = json.load(open(p))
    txt = open(p[:-5] + ".txt").read()
    load = re.search(r"load average: ([\d.]+)", txt).group(1)
    load_end = re.findall(r"load average: ([\d.]+)", txt)[-1]
    cells = {}
    for c in doc["clients"]:
        if c.get("error"):
            continue
        cells[(f'{c["venue"]}.{c["market"]}', c["framing"])] = c
    rounds.append((n, load, load_end, cells))
feeds = ["mexc.spot", "gateio.spot", "gateio.futures"]
print("round  load(start/end)  " + "  ".join(f"{f:>30}" for f in feeds))
print(" " * 24 + "  ".join(f"{'p50 own/tg µs  p99 own/tg µs':>30}" for _ in feeds))
ratios = {f: {"p50": [], "p99": []} for f in feeds}
vals = {f: {"own50": [], "tg50": [], "own99": [], "tg99": []} for f in feeds}
for n, l0, l1, cells in rounds:
    row = f"{n:>5}  {l0:>6}/{l1:<6}   "
    for f in feeds:
        o, t = cells.get((f, "own")), cells.get((f, "tungstenite"))
        if not o or not t:
            row += f"{'missing':>30}  "
            continue
        o50, t50, o99, t99 = o["p50_ns"] / 1e3, t["p50_ns"] / 1e3, o["p99_ns"] / 1e3, t["p99_ns"] / 1e3
        vals[f]["own50"].append(o50); vals[f]["tg50"].append(t50)
        vals[f]["own99"].append(o99); vals[f]["tg99"].append(t99)
        ratios[f]["p50"].append(t50 / o50); ratios[f]["p99"].append(t99 / o99)
        row += f"{o50:>6.0f}/{t50:<6.0f}   {o99:>6.0f}/{t99:<6.0f}     "
    print(row)
print()
print("feed            rounds  p50 median own/tg µs  p50 tg/own median [range]  tg<own p50   p99 median own/tg µs  p99 tg/own median [range]")
for f in feeds:
    r50, r99 = ratios[f]["p50"], ratios[f]["p99"]
    if not r50:
        continue
    m = statistics.median
    print(f"{f:<15} {len(r50):>6}  {m(vals[f]['own50']):>8.0f}/{m(vals[f]['tg50']):<8.0f}     "
          f"{m(r50):.2f} [{min(r50):.2f}–{max(r50):.2f}]        {sum(x < 1 for x in r50)}/{len(r50)}        "
          f"{m(vals[f]['own99']):>8.0f}/{m(vals[f]['tg99']):<8.0f}     {m(r99):.2f} [{min(r99):.2f}–{max(r99):.2f}]")

print()
print("stage p50 medians over rounds, µs (own/tg): send_to_read, read_to_ring (framing + decode + apply), ring_to_strategy")
for f in feeds:
    row = f"{f:<15}"
    for st in ["send_to_read", "read_to_ring", "ring_to_strategy"]:
        o = [c[(f, "own")]["stages"][st]["p50_ns"] / 1e3 for _, _, _, c in rounds if (f, "own") in c and st in c[(f, "own")]["stages"]]
        t = [c[(f, "tungstenite")]["stages"][st]["p50_ns"] / 1e3 for _, _, _, c in rounds if (f, "tungstenite") in c and st in c[(f, "tungstenite")]["stages"]]
        if o and t:
            row += f"  {st} {statistics.median(o):.0f}/{statistics.median(t):.0f}"
    print(row)

# Paired sign test: rounds where own's p50 beat tungstenite's (same run, same feed). Under "no
# difference" each round is a coin flip; one-sided binomial tail P(X >= wins).
from math import comb
def tail(n, k):
    return sum(comb(n, i) for i in range(k, n + 1)) / 2 ** n
print()
print("sign test, p50 (own faster in k of n same-run pairs; one-sided binomial p)")
tot_n = tot_k = 0
for f in feeds:
    r = ratios[f]["p50"]
    k = sum(x > 1 for x in r)
    tot_n += len(r); tot_k += k
    print(f"{f:<15} {k}/{len(r)}  p = {tail(len(r), k):.3f}")
print(f"{'all feeds':<15} {tot_k}/{tot_n}  p = {tail(tot_n, tot_k):.4f}")
