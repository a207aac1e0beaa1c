#!/usr/bin/env bash
# Build the virtual environment mmdepthseg needs, idempotently.
#
# - torch is installed only when the interpreter has none (never replaced);
# - mmcv 2.1.0 is built from source with its ops (MMCV_WITH_OPS=1), CUDA ops
#   too when CUDA and a CUDA build of torch are present. pip caches the wheel,
#   so a second install on the same machine is fast;
# - mmsegmentation 1.2.2 plus the ftfy/regex it imports without declaring.
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}

if [ ! -x "$VENV/bin/python" ]; then
  echo "[install] creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --progress-bar off)

if "$PY" -c "import torch" 2>/dev/null; then
  echo "[install] torch $("$PY" -c 'import torch; print(torch.__version__)') already present, kept"
else
  echo "[install] installing torch==$TORCH_VERSION"
  "${PIP[@]}" "torch==$TORCH_VERSION"
fi

# torch may pull a newer setuptools; mmcv's setup.py needs pkg_resources.
"${PIP[@]}" -q -r requirements/build.txt
# the pinned runtime stack first, so that mmcv's own (unpinned) requirements
# are already satisfied when it is built
"${PIP[@]}" -q -r requirements/runtime.txt -r requirements/tests.txt
# optional extras (ONNX export + onnxruntime check, TensorBoard); the tests
# of those features skip without them, except under CI=true (.ci/run), where
# a skip fails. INSTALL_OPTIONAL=0 leaves them out.
if [ "${INSTALL_OPTIONAL:-1}" != "0" ]; then
  "${PIP[@]}" -q -r requirements/optional.txt
fi

if "$PY" -c "import mmcv, mmcv.ops" 2>/dev/null; then
  echo "[install] mmcv $("$PY" -c 'import mmcv; print(mmcv.__version__)') with ops already present"
else
  echo "[install] building mmcv 2.1.0 with ops from source (about 13 min on 2 cores the first time)"
  if "$PY" -c "import torch, sys; sys.exit(0 if torch.version.cuda and torch.cuda.is_available() else 1)" 2>/dev/null \
     && command -v nvcc >/dev/null; then
    export FORCE_CUDA=1
  fi
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "${PIP[@]}" --no-build-isolation -r requirements/mminstall.txt
fi

"${PIP[@]}" -q --no-build-isolation --no-deps -e .
"$PY" -c "import mmdepthseg, mmseg, mmcv.ops; print('[install] mmdepthseg', mmdepthseg.__version__, 'ready')"
