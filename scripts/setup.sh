#!/usr/bin/env bash
# Creates the project's virtual environment (.venv) and installs Quarterdeck with its test
# tools. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# Spark (the cross-backend tests) needs a Java runtime; install Debian's when we can.
if ! command -v java >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    openjdk-17-jre-headless) >/dev/null 2>&1 || echo "warning: could not install Java"
fi
# The report tests render each PDF page to PNG with pdftoppm (poppler-utils); WeasyPrint needs
# Pango, which Debian ships as libpango-1.0-0 and libpangoft2-1.0-0.
if ! command -v pdftoppm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    poppler-utils libpango-1.0-0 libpangoft2-1.0-0) >/dev/null 2>&1 \
    || echo "warning: could not install poppler-utils and Pango"
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.quarterdeck-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]"
  touch "$stamp"
fi
