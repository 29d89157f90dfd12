#!/usr/bin/env bash
# Wheel smoke: build the wheel from this checkout, install it non-editable into a fresh venv
# (dependencies from the package index, nothing from the checkout), and run the installed
# `gezondestad` on the demo town: prepare, indicators, screen on the shipped example plan, and
# start the app until its health endpoint answers. Runs outside the checkout so nothing is
# imported from the repository folders by accident.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'kill "${app_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
python -m pip wheel --no-deps -q -w dist "$repo"
python -m venv venv
venv/bin/pip install -q dist/gezondestad-*.whl
export HOME="$work/home" GEZONDESTAD_HOME="$work/gs"
gz=venv/bin/gezondestad
$gz prepare --demo --out demo
$gz indicators --area demo --out ind.gpkg
plan=$(venv/bin/python -c "from gezondestad.screening.example_plan import EXAMPLE_PLAN_PATH as p; print(p)")
case "$plan" in "$repo"*) echo "wheel smoke: example plan resolved inside the checkout ($plan)"; exit 1;; esac
$gz screen --area demo --plan "$plan" --out verslag.html --local
test -s verslag.html
port=$(venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
$gz app --server.port "$port" --server.headless true --server.address 127.0.0.1 >app.log 2>&1 &
app_pid=$!
for _ in $(seq 1 60); do
  if venv/bin/python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/_stcore/health', timeout=2).read()==b'ok' else 1)" 2>/dev/null; then
    echo "wheel smoke: passed (prepare, indicators, screen, app on port $port)"
    exit 0
  fi
  sleep 1
done
echo "wheel smoke: the app did not answer on port $port"; cat app.log; exit 1
