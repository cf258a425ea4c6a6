#!/usr/bin/env bash
# One command for a machine with a GPU (docs/gpu.md): prints a markdown table of training and
# sampling chars/s for the cpu engine and every GPU mode that works here (LSTM, GRU, minGRU at
# hidden 256/512/1024, batch 32 and 256), with the launches and transfers per training step.
#   bash scripts/gpu-report.sh [--hidden 256,512 --batch 32,256 --cells lstm,gru,mingru --seq 64 ...]
# headless-gl needs an X display: without one the report runs under xvfb-run when it is installed
# (scripts/test-gpu.sh installs it, and builds headless-gl). The table goes to stdout, progress
# and the modes left out to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/select/auto-choice.js ] || npm run build >/dev/null
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  exec xvfb-run -a node scripts/gpu-report.mjs "$@"
fi
exec node scripts/gpu-report.mjs "$@"
