#!/usr/bin/env bash
# From a fresh checkout to the running web app on the demo company:
# set up, generate the demo company, load it, run the pipeline as of the demo's today,
# create an admin, and serve the app on 127.0.0.1. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
QD=.venv/bin/quarterdeck
WS=${QUARTERDECK_DEMO_WORKSPACE:-demo-workspace}
ACCOUNTS=${QUARTERDECK_DEMO_ACCOUNTS:-2000}
if [ ! -f "$WS/quarterdeck.yml" ]; then
  "$QD" init "$WS" --name "Northwind Analytics (demo)"
fi
"$QD" demo --out "$WS/demo-company" --accounts "$ACCOUNTS"
"$QD" load "$WS/demo-company/data" --workspace "$WS"
AS_OF=$(.venv/bin/python -c "import json,sys; print(json.load(open(sys.argv[1]))['today'])" \
  "$WS/demo-company/demo.json")
"$QD" run --as-of "$AS_OF" --workspace "$WS"
PASSWORD_FILE="$WS/data/admin-password"
if [ ! -f "$PASSWORD_FILE" ]; then
  ( umask 077; .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(12))" \
    > "$PASSWORD_FILE" )
  "$QD" user add admin@example.com --name "Demo Admin" --role admin --password-stdin \
    --workspace "$WS" < "$PASSWORD_FILE"
fi
echo
echo "Sign in as admin@example.com with password: $(cat "$PASSWORD_FILE")"
exec "$QD" serve --workspace "$WS"
