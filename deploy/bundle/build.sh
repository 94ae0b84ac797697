#!/usr/bin/env bash
# `make bundle`: an offline bundle for a server that reaches no package registry (a county's 政务外网 server).
# Run on a machine with the registries, the same OS family, CPU and Python minor version as the target (the wheels
# are for this platform). Output: dist/gridgov-<commit>/ and dist/gridgov-<commit>.tar (see docs/deploy.md).
#   <bundle>/app/           the committed source (git archive of HEAD), with var/vendor/ (front-end assets)
#   <bundle>/wheels/        a wheel of every package in requirements.txt and requirements-dev.txt
#   <bundle>/install.sh     creates a venv from wheels/ alone: pip --no-index
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
NAME="gridgov-$(git rev-parse --short=12 HEAD)"
OUT="dist/${NAME}"
SECONDS=0
rm -rf "${OUT}" "${OUT}.tar"
mkdir -p "${OUT}/app" "${OUT}/wheels"

git archive --format=tar HEAD | tar -x -C "${OUT}/app"

# Front-end assets, copied as `make install` copies them from node_modules (npm ci from package-lock.json).
[ -d node_modules/htmx.org ] || npm ci --silent --no-audit --no-fund
V="${OUT}/app/var/vendor"
mkdir -p "${V}/htmx" "${V}/leaflet" "${V}/echarts"
cp node_modules/htmx.org/dist/htmx.min.js "${V}/htmx/"
cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css \
      node_modules/leaflet/dist/images "${V}/leaflet/"
cp node_modules/echarts/dist/echarts.min.js "${V}/echarts/"

# Wheels for this platform: prebuilt from the registry where one exists, built here otherwise; pip itself and the
# build tools too, so the target can upgrade pip offline.
"${PY}" -m pip wheel --quiet --wheel-dir "${OUT}/wheels" -r requirements-dev.txt pip setuptools wheel

cp deploy/bundle/install.sh "${OUT}/install.sh"
chmod +x "${OUT}/install.sh"
"${PY}" -c 'import platform, sys; print(f"python {sys.version_info.major}.{sys.version_info.minor} {platform.machine()} {platform.libc_ver()[0]}-{platform.libc_ver()[1]}")' > "${OUT}/PLATFORM"
git rev-parse HEAD > "${OUT}/COMMIT"
tar -C dist -cf "${OUT}.tar" "${NAME}"
ln -sfn "${NAME}" dist/gridgov-bundle
echo "bundle: ${OUT}.tar ($(du -sh "${OUT}.tar" | cut -f1); wheels $(du -sh "${OUT}/wheels" | cut -f1), $(ls "${OUT}/wheels" | wc -l) files) in ${SECONDS}s"
