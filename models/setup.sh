#!/usr/bin/env bash
# Creates the model toolchain's virtual environment (models/.venv) from the pinned requirements.
# Idempotent: does nothing when the venv exists and was built from the current requirements.txt.
set -euo pipefail
cd "$(dirname "$0")"
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
  echo "models/setup.sh: python3 with the venv module is needed (Debian: apt-get install -y python3-venv)" >&2
  exit 1
fi
echo "models/setup.sh: creating models/.venv from models/requirements.txt" >&2
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
echo "$want" > "$stamp"
