#!/usr/bin/env bash
# Type check the library with mypy on its installed layout (gezondestad.model, .layers, ...).
# The repository keeps the user's folders (model/, spatial/, ...) and maps them onto gezondestad.*
# through package-dir; mypy cannot follow the editable-install hook, so a temporary tree of
# symlinks gives it the installed names. Settings and the baseline are in pyproject [tool.mypy].
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/gezondestad"
cp app/_root/__init__.py "$tmp/gezondestad/__init__.py"
for d in model layers spatial screening app data; do ln -s "$root/$d" "$tmp/gezondestad/$d"; done
MYPYPATH="$tmp" mypy --config-file pyproject.toml --cache-dir "$tmp/.mypy_cache" \
    -p gezondestad.model -p gezondestad.layers -p gezondestad.spatial -p gezondestad.screening -p gezondestad.app.cli
