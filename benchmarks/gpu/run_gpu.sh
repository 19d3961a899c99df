#!/usr/bin/env bash
# The GPU run of issue 9: runs ON the CUDA machine, in the repository root.
#
#   here:   bash benchmarks/gpu/prepare.sh          (wheels into .whl/, data into .gpu_data/)
#   device: run(command="bash benchmarks/gpu/run_gpu.sh", carry=[".whl", ".gpu_data"], timeout_s=600)
#
# Installs the carried wheels (keras, albumentations, pydantic, ...; the image has jax with
# CUDA, numpy, pandas, seaborn, opencv, click but no keras), then runs with KERAS_BACKEND=jax,
# each step under its own time limit and within an overall deadline, most important first:
#   smoke       the JAX tests (the study end to end, the feed, the backend choice)
#   packing     80 small runs: sequential vs --jobs 8 on the one GPU (goal >= 3x)
#   throughput  trainer vs bare model.fit on the full Fashion-MNIST, batch 1024 and 128, device
#               and host feed (goal >= 0.9)
#   quickstart  `invariance run studies/quickstart.yaml` wall time (and its report)
#   benchmarks  python benchmarks/run_all.py --quick (train_throughput, harness, study_overhead, scaling)
#   scaling     the GPU cost table (benchmarks/scaling.py --out), if time is left
# Writes $OUT/results.json (one key per step: its final JSON line, its exit code and seconds;
# rewritten after every step, so a cut-off run still returns what finished), $OUT/log.txt
# (all output) and $OUT/cost_model_gpu.json. GPU_DEADLINE_S (default 540) bounds the whole
# script; GPU_STEPS (default all, e.g. "smoke packing") picks steps; GPU_QUICK=1 shrinks every
# step (to check the script itself, e.g. on a CPU); GPU_WHEELS (default .whl) is the wheel folder.
set -uo pipefail
START=$(date +%s)
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
DEADLINE=${GPU_DEADLINE_S:-540}
STEPS=${GPU_STEPS:-smoke packing throughput quickstart benchmarks scaling}
LOG="$OUT/log.txt"
RESULTS="$OUT/results.json"
echo '{}' > "$RESULTS"

log() { echo "[$(date +%T) +$(( $(date +%s) - START ))s] $*" | tee -a "$LOG"; }

WHEELS=${GPU_WHEELS:-.whl}
QUICK=${GPU_QUICK:-0}
if compgen -G "$WHEELS/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
    >> "$LOG" 2>&1 || { log "wheel install failed"; exit 1; }
  export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 MPLBACKEND=Agg
export JAX_COMPILATION_CACHE_DIR=/tmp/jax-cache
if [ -f .gpu_data/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  export INVARIANCE_DATA_DIR="$PWD/.gpu_data"
  FULL=fashion_mnist
else
  FULL=fashion_mnist_mini
fi
# The console script without installing the package: the repository is on PYTHONPATH.
INV=(python3 -c "from invariance.cli import main; main()")

# step NAME SECONDS COMMAND...: runs it with a time limit, logs it, and stores its last JSON line.
step() {
  local name=$1 limit=$2; shift 2
  case " $STEPS " in *" $name "*) ;; *) return 0 ;; esac
  local left=$(( DEADLINE - ($(date +%s) - START) ))
  if [ "$left" -lt 30 ]; then log "skip $name: ${left}s left of the deadline"; return 0; fi
  [ "$limit" -gt "$left" ] && limit=$left
  log "step $name (limit ${limit}s): $*"
  local t0=$(date +%s) tmp; tmp=$(mktemp)
  timeout --signal=TERM --kill-after=10 "$limit" "$@" 2>&1 | tee "$tmp" >> "$LOG"
  local code=${PIPESTATUS[0]}
  python3 - "$RESULTS" "$name" "$code" "$(( $(date +%s) - t0 ))" "$tmp" <<'PY'
import json, sys
path, name, code, seconds, output = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
found = None
for line in reversed(open(output, errors="replace").read().splitlines()):
    line = line.strip()
    if line.startswith("{"):
        try:
            found = json.loads(line)
            break
        except ValueError:
            pass
results = json.load(open(path))
entry = results.setdefault(name, {})
entry.update(exit_code=code, seconds=seconds, result=found)
if found is None:
    entry["tail"] = open(output, errors="replace").read()[-1500:]
json.dump(results, open(path, "w"), indent=1)
PY
  rm -f "$tmp"
  log "end $name: exit $code"
}

log "device: $(nvidia-smi -L 2>/dev/null | head -1)"
step env 120 python3 -c "
import json, invariance, keras, jax
from invariance.provenance import provenance
p = provenance()
print(json.dumps({'backend': keras.backend.backend(), 'device': p['device'], 'jax_devices': [str(d) for d in jax.devices()],
                  'versions': p['versions'], 'data': '$FULL'}))"

step smoke 150 python3 -m pytest -q -x -p no:cacheprovider tests/test_backend_jax.py tests/test_backend_choice.py \
  tests/test_backend_fast_paths.py

# 80 small runs, sequential vs packed 8 to the GPU (each variant with a cold compilation cache).
if [ "$QUICK" = 1 ]; then PACK=(--quick --jobs 2); else PACK=(--runs 80 --jobs 8); fi
step packing 300 python3 benchmarks/packing.py "${PACK[@]}"

throughput() {  # trainer vs bare fit on the full data; the device feed (JAX default), then the host feed
  local size=()
  [ "$QUICK" = 1 ] && size=(--quick)
  python3 benchmarks/train_throughput.py --dataset "$FULL" --batch-size "$1" --epochs 4 --rounds 2 "${size[@]}" \
    | tail -1 > /tmp/tp_device.json
  INVARIANCE_FEED=host python3 benchmarks/train_throughput.py --dataset "$FULL" --batch-size "$1" --epochs 4 --rounds 1 \
    "${size[@]}" | tail -1 > /tmp/tp_host.json
  python3 -c "import json; print(json.dumps({'device_feed': json.load(open('/tmp/tp_device.json')), 'host_feed': json.load(open('/tmp/tp_host.json'))}))"
}
export -f throughput
export FULL QUICK
step throughput 240 bash -c "throughput 1024"
step throughput_128 150 bash -c "throughput 128"

quickstart() {
  local t0; t0=$(date +%s.%N)
  local sets=()
  [ "$QUICK" = 1 ] && sets=(--set train.epochs=1 --set "n_train=[1000]" --set evaluate.samples=100)
  python3 -c "from invariance.cli import main; main()" run studies/quickstart.yaml --out /tmp/qs --fresh --quiet "${sets[@]}"
  local code=$?
  python3 -c "import json,sys; print(json.dumps({'quickstart_seconds': round($(date +%s.%N) - $t0, 1), 'exit_code': $code}))"
}
export -f quickstart
step quickstart 240 bash -c quickstart

step benchmarks 420 python3 benchmarks/run_all.py --quick

if [ "$QUICK" = 1 ]; then SCALE=(--quick); else SCALE=(); fi
step scaling 300 python3 benchmarks/scaling.py "${SCALE[@]}" --out "$OUT/cost_model_gpu.json"

log "done: $(python3 -c "import json; r=json.load(open('$RESULTS')); print({k: v['exit_code'] for k, v in r.items()})")"
