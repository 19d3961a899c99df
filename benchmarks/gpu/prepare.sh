#!/usr/bin/env bash
# Run HERE (a machine with PyPI access), in the repository root, before the GPU call:
#   bash benchmarks/gpu/prepare.sh
# It fetches the wheels the GPU image lacks into .whl/ (Python 3.12, manylinux x86-64) and
# copies the full Fashion-MNIST into .gpu_data/fashion-mnist/, and makes git ignore both, so
# that the device call can carry them:  run(command="bash benchmarks/gpu/run_gpu.sh",
# carry=[".whl", ".gpu_data"], timeout_s=600).  See benchmarks/gpu/README.md.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

# The GPU image ('cuda': Python 3.12, jax + CUDA plugin, numpy, pandas, seaborn, scipy,
# opencv, click, rich, pyyaml, h5py, ml-dtypes, absl-py) lacks these; versions as tested here.
WHEELS=(
  keras==3.15.1 namex==0.1.0 optree==0.20.0
  albumentations==2.0.8 albucore==0.0.24 stringzilla==5.3.2 simsimd==6.5.16
  pydantic==2.13.4 pydantic-core==2.46.4 annotated-types==0.7.0 typing-inspection==0.4.2
)
for pattern in /.whl/ /.gpu_data/; do
  grep -qxF "$pattern" .git/info/exclude 2>/dev/null || echo "$pattern" >> .git/info/exclude
done
mkdir -p .whl
for wheel in "${WHEELS[@]}"; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "$wheel"
done

data="${INVARIANCE_DATA_DIR:-}"
src=""
for candidate in "$data/fashion-mnist" "$data/fashion_mnist" /usr/share/datasets/fashion-mnist "$HOME/.keras/datasets/fashion-mnist"; do
  if [ -f "$candidate/train-images-idx3-ubyte.gz" ]; then src="$candidate"; break; fi
done
mkdir -p .gpu_data/fashion-mnist
if [ -n "$src" ]; then
  cp "$src"/*-ubyte.gz .gpu_data/fashion-mnist/
else
  echo "warning: full Fashion-MNIST not found (apt-get install dataset-fashion-mnist); the GPU run" \
       "will use only the bundled fashion_mnist_mini" >&2
fi
du -sh .whl .gpu_data
ls .whl
