#!/usr/bin/env bash
# The CUDA checks in one run on a lent GPU machine: tests/inference/test_cuda.py, then
# bench/gpu_path.py (cuda against cpu). That machine has torch, timm, onnxruntime, opencv, scipy,
# scikit-image and pytest, but not this project's other imports and no network; only the session's
# checkout travels (64 MiB with what it carries). So, in two steps:
#
#   bench/gpu_check.sh pack DIR    here: DIR (inside the checkout that travels, ignored through
#                                  its .git/info/exclude) gets this checkout's code, wheels of the
#                                  missing packages, mobile_sam.pt and six dataset images (46 MB)
#   bash DIR/bench/gpu_check.sh run    there, with DIR carried: installs the wheels into
#                                  /tmp/site, runs both and tees them to $OUT/log
#
# `run` also works here on the CPU (the cuda tests skip): PYTHON=.venv/bin/python
# OUT=/tmp/out bash DIR/bench/gpu_check.sh run --devices cpu
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Versions of the local .venv; --no-deps, so every needed package is named (typing-extensions
# too: pydantic needs >= 4.16). sqlalchemy and pycocotools stay behind: nothing run imports them.
WHEELS="pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 python-dotenv==1.2.4
annotated-types==0.8.0 typing-inspection==0.4.5 typing-extensions==4.16.0 segment-anything==1.0
platformdirs==4.14.9"
IMAGES="nuclei/images/0114f484a16c.png nuclei/images/0a849e0eb15f.png
nuclei/images/0e132f71c8b4.png camvid-dev/images/0016E5_07959.png
camvid-dev/images/0016E5_07965.png camvid-dev/images/0016E5_07971.png"

pack() {
    local dir="$1" data="${DATASETS:-$ROOT/../shared/datasets}"
    local weights="${MOBILE_SAM:-$HOME/.cache/lassolabel/models/mobile_sam.pt}"
    rm -rf "$dir" && mkdir -p "$dir/tests" "$dir/images" "$dir/whl"
    (cd "$ROOT" && tar cf - --exclude=__pycache__ app bench pyproject.toml tests/__init__.py \
        tests/fixtures tests/inference) | tar xf - -C "$dir"
    for image in $IMAGES; do cp "$data/$image" "$dir/images/"; done
    cp "$weights" "$dir/mobile_sam.pt"
    # shellcheck disable=SC2086  # one argument per wheel
    "${PYTHON:-python3}" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d "$dir/whl" $WHEELS
    du -sh "$dir"
}

run() {
    cd "$ROOT"
    local python="${PYTHON:-python3}" log="${OUT:?OUT names the folder for the log}/log"
    if [ -z "${PYTHON:-}" ]; then
        "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/site whl/*.whl
        export PYTHONPATH=/tmp/site
    fi
    # Writable places for the model cache (where the tests look for MobileSAM) and data.
    export PYTHONUNBUFFERED=1 XDG_CACHE_HOME=/tmp/gpu-check/cache LASSOLABEL_MODEL_FETCH=false
    export LASSOLABEL_DATA_DIR=/tmp/gpu-check/data LASSOLABEL_MODEL_DIR=/tmp/gpu-check/models
    mkdir -p "$XDG_CACHE_HOME/lassolabel/models" "$OUT"
    cp mobile_sam.pt "$XDG_CACHE_HOME/lassolabel/models/"
    {
        nvidia-smi -L || true
        "$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
        # --noconftest: tests/conftest.py builds the web app, whose packages are not there.
        "$python" -m pytest -p no:cacheprovider --noconftest -v -rsP tests/inference/test_cuda.py \
            || echo "pytest exit $?"
        "$python" bench/gpu_path.py --checkpoint mobile_sam.pt --images images "$@"
    } 2>&1 | tee "$log"
}

case "${1:-}" in
    pack) pack "${2:?pack DIR}" ;;
    run) shift && run "$@" ;;
    *) sed -n 2,15p "$0" && exit 2 ;;
esac
