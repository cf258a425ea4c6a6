#!/usr/bin/env bash
# The GPU path's tests (npm run test:gpu; .ci/run runs it after npm test). Installs what it can,
# then runs the GPU-path suites once per gpu.js GPU mode that works here: headless-gl under
# xvfb-run (it needs an X server even on llvmpipe), WebGPU through the webgpu package (Dawn). A mode
# that cannot be made to work prints a SKIPPED line with the reason; it is never a silent pass.
# Fails if no mode works at all unless CHARNN_GPU_OPTIONAL=1.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== test-gpu: %s\n' "$*"; }

# 1. System packages: headless-gl's build needs X and GL headers; xvfb-run gives it a display.
APT_PKGS=(build-essential pkg-config libxi-dev libglu1-mesa-dev libglew-dev xvfb xauth libegl1 libgles2 mesa-vulkan-drivers)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") >/dev/null \
      || say "apt-get install failed; going on with what is installed"
  fi
else
  say "not root with apt-get: not installing system packages (${APT_PKGS[*]})"
fi

# 2. npm packages: webgpu 0.6 (a dependency of charnn; installed here only if missing), gl's native build.
if ! node -e "const v=require('webgpu/package.json').version;process.exit(/^0\.[0-5]\./.test(v)?1:0)" 2>/dev/null; then
  say "installing webgpu@0.6.2 (not in node_modules)"
  npm install --no-save webgpu@0.6.2 >/dev/null 2>&1 || say "npm install webgpu@0.6.2 failed"
fi
if [ ! -f node_modules/gl/build/Release/webgl.node ]; then
  say "building headless-gl (npm rebuild gl, a few minutes)"
  npm rebuild gl --ignore-scripts=false >/tmp/charnn-gl-build.log 2>&1 || say "building gl failed (log: /tmp/charnn-gl-build.log)"
fi

# 3. Build, then probe each mode in the environment its tests will run in.
npm run build >/dev/null || { say "npm run build failed"; exit 1; }
probe() { # mode, command prefix...
  local mode=$1; shift
  "$@" node -e "
    import('./dist/select/probe.js').then(async ({ probeInChild }) => {
      const a = await probeInChild({ backend: '$mode' });
      console.log(a.ok ? 'ok' : a.reason);
    });" 2>/dev/null | tail -1
}
XVFB=()
if command -v xvfb-run >/dev/null; then XVFB=(xvfb-run -a); fi

ran=0; failed=0
for mode in webgpu headlessgl; do
  prefix=()
  [ "$mode" = headlessgl ] && [ -z "${DISPLAY:-}" ] && prefix=("${XVFB[@]}")
  if [ "$mode" = headlessgl ] && [ -z "${DISPLAY:-}" ] && [ ${#XVFB[@]} -eq 0 ]; then
    echo "SKIPPED: gpu.js headlessgl: no X display and no xvfb-run (apt-get install xvfb xauth)"; continue
  fi
  why=$(probe "$mode" "${prefix[@]}")
  if [ "$why" != ok ]; then echo "SKIPPED: gpu.js $mode: ${why:-the probe printed nothing}"; continue; fi
  say "gpu.js $mode works here: running the GPU-path suites"
  ran=$((ran + 1))
  CHARNN_GPU_MODES=$mode "${prefix[@]}" npx vitest run --config vitest.gpu.config.ts || failed=$((failed + 1))
done

if [ $failed -gt 0 ]; then say "FAILED in $failed mode(s)"; exit 1; fi
if [ $ran -eq 0 ]; then
  say "no GPU mode could be tested here"
  [ "${CHARNN_GPU_OPTIONAL:-0}" = 1 ] && exit 0 || exit 1
fi
say "passed in $ran mode(s)"
