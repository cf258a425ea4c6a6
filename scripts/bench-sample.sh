#!/usr/bin/env bash
# Batch-1 sampling speed, charnn against the PyTorch peer (scripts/torch_infer.py), alternated
# round by round so both see the same machine; prints one line per round (take the medians).
#   bash scripts/bench-sample.sh LSTM.ckpt MINGRU.ckpt [rounds]
# LSTM.ckpt: an LSTM 2×256 E64, MINGRU.ckpt: a minGRU 3×216 E64 MLP 2, each on a 65-symbol
# vocabulary (a few steps of `charnn train tinyshakespeare.txt` with those flags make one;
# the weights do not change the speed). The peer runs twice: as this machine's environment sets
# OpenBLAS up, and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, which lets OpenBLAS pick
# its kernels for the CPU it finds (the faster peer, and the one to compare with).
# Needs PyTorch: apt-get install -y python3-torch libopenblas0-pthread. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
lstm=$1 mingru=$2 rounds=${3:-3}
cps() { python3 -c "import json,sys; print(round(json.load(sys.stdin)['chars_per_sec']))"; }
peer() { "$@" 2>&1 | sed -n 's/^RESULT //p' | python3 -c "import json,sys; print(json.load(sys.stdin)['chars_per_sec'])"; }
for cell in lstm mingru; do
  if [ "$cell" = lstm ]; then ck=$lstm; args=(--cell lstm --layers 2 --hidden 256 --embed 64)
  else ck=$mingru; args=(--cell mingru --layers 3 --hidden 216 --embed 64 --mlp 2); fi
  for r in $(seq "$rounds"); do
    a=$(node bin/charnn.js sample "$ck" --length 100000 --threads 1 --json | cps)
    b=$(node bin/charnn.js sample "$ck" --length 100000 --threads 2 --json | cps)
    c=$(peer env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/torch_infer.py "${args[@]}")
    d=$(peer /usr/bin/python3 scripts/torch_infer.py "${args[@]}")
    echo "$cell round $r: charnn 1 thread $a, 2 threads $b chars/s | PyTorch batch 1: $c (OpenBLAS picks its kernels), $d (this machine's OPENBLAS_* settings)"
  done
done
