#!/usr/bin/env bash
# Set up a development environment for cnnlabs in ./.venv (idempotent).
#
# - On a machine without an NVIDIA GPU (Linux x86_64) it installs `tensorflow-cpu`
#   instead of `tensorflow`, so no GPU build is downloaded (see docs/install.md).
#   Set CNNLABS_TF=tensorflow to force the regular package.
# - As root it installs Debian's Fashion-MNIST (offline data for tests) and bubblewrap
#   (the grading sandbox, docs/grading.md) if missing.
# - CNNLABS_LOWEST=1 installs the lowest TensorFlow and Keras that pyproject.toml
#   declares (`>=X` becomes `==X`): CI runs its Python 3.12 job on them, so the
#   declared bounds are the ones tested.
# - Usage: bash scripts/bootstrap.sh [VENV_DIR]   (PYTHON=python3.12 picks the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
PY=${PYTHON:-python3}

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [ "$(id -u)" = 0 ] \
   && command -v apt-get >/dev/null; then
  echo "== installing Debian's dataset-fashion-mnist (offline test data)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null \
    || echo "warning: could not install dataset-fashion-mnist; Fashion-MNIST tests will be skipped locally" >&2
fi

if ! command -v bwrap >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing bubblewrap (the grading sandbox)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null \
    || echo "warning: could not install bubblewrap; cnnlabs grade will refuse to grade here" >&2
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi

tf_package=${CNNLABS_TF:-}
if [ -z "$tf_package" ]; then
  if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] && ! command -v nvidia-smi >/dev/null 2>&1; then
    tf_package=tensorflow-cpu
  else
    tf_package=tensorflow
  fi
fi

echo "== installing dependencies (TensorFlow as $tf_package)"
# The requirement list comes from pyproject.toml (one source of truth); only the
# TensorFlow distribution name is swapped on CPU-only machines.
"$VENV/bin/python" - "$tf_package" "${CNNLABS_LOWEST:-}" > "$VENV/cnnlabs-requirements.txt" <<'PYEOF'
import re, sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
tf_package, lowest = sys.argv[1], sys.argv[2] == "1"
for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
    name = re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0]
    if lowest and name in ("tensorflow", "keras"):
        req = req.replace(">=", "==", 1)
    print(tf_package + req[len(name):] if name == "tensorflow" else req)
PYEOF
if [ "${CNNLABS_LOWEST:-}" = 1 ]; then
  echo "== lowest declared versions: $(grep -E '^(tensorflow|tensorflow-cpu|keras)[=<>]' "$VENV/cnnlabs-requirements.txt" | tr '\n' ' ')"
fi
"$VENV/bin/pip" install -q -r "$VENV/cnnlabs-requirements.txt" 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/pip" install -q --no-deps -e . 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import tensorflow as tf, keras, cnnlabs; print('== ready: cnnlabs', cnnlabs.__version__, '| TensorFlow', tf.__version__, '| Keras', keras.__version__)" 2>&1 | grep "== ready"
