#!/bin/sh
# Issue 14, framing half: alternating rounds of cexfeed-bench, TLS, 100k pushes/s, blocking
# wait, all three feeds, both framings side by side (order alternating per round). The machine
# load (`uptime`) is recorded before and after each round. Usage: run.sh ROUNDS BIN OUTDIR
set -u
rounds=${1:-6}
bin=${2:-target/release/cexfeed-bench}
out=${3:-tools/bench/results/framing}
mkdir -p "$out"
i=1
while [ "$i" -le "$rounds" ]; do
  if [ $((i % 2)) -eq 1 ]; then order=own,tungstenite; else order=tungstenite,own; fi
  {
    echo "round $i order $order"
    echo "start $(date -u +%FT%TZ) $(uptime)"
  } > "$out/round$i.txt"
  "$bin" --duration 5s --warmup 1s --rates 100k --feeds mexc.spot,gateio.spot,gateio.futures \
    --tls on --clients cexfeed --no-ccxt --wait block --framing "$order" --tick-to-signal off \
    --json "$out/round$i.json" --out "/tmp/framing-bench-out/round$i" >> "$out/round$i.txt" 2>&1
  echo "end $(date -u +%FT%TZ) $(uptime)" >> "$out/round$i.txt"
  i=$((i + 1))
done
