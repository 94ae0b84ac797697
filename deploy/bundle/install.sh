#!/bin/sh
# Install GridGov from this offline bundle, with no package registry: every package comes from wheels/.
#   ./install.sh            a production venv (requirements.txt) at app/.venv
#   ./install.sh --dev      with the test tools (requirements-dev.txt), to run the tests here
#   ./install.sh [--dev] VENV_DIR
# PYTHON=python3.11 chooses the interpreter; it must match PLATFORM (the wheels were built for it).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REQ=requirements.txt
if [ "${1:-}" = "--dev" ]; then REQ=requirements-dev.txt; shift; fi
VENV=${1:-"$HERE/app/.venv"}
PYTHON=${PYTHON:-python3}

want=$(cut -d' ' -f2 "$HERE/PLATFORM")
have=$("$PYTHON" -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')
if [ "$want" != "$have" ]; then
  echo "This bundle was built for Python $want; $PYTHON is $have. Set PYTHON=python$want." >&2
  exit 2
fi

"$PYTHON" -m venv "$VENV"
# --isolated: no pip.conf, no PIP_* variables (an index or find-links set on the machine is not used);
# --no-index: no registry at all, only the bundle's wheels.
"$VENV/bin/python" -m pip install --isolated --no-index --find-links "$HERE/wheels" --quiet --upgrade pip
"$VENV/bin/python" -m pip install --isolated --no-index --find-links "$HERE/wheels" --quiet -r "$HERE/app/$REQ"
echo "GridGov installed into $VENV from $HERE/wheels ($REQ). Next: docs/deploy.md, Environment."
