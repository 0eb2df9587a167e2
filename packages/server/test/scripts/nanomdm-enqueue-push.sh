#!/bin/sh
# A NanoMDM-style operator script, unchanged from what runs against NanoMDM: enqueue a command plist
# for comma-separated enrollment ids (no push), push them, then try a wrong password.
# Usage: BASE_URL=https://mdm.example.com API_KEY=... nanomdm-enqueue-push.sh ID[,ID...] first.plist second.plist
set -eu
ids="$1"
plist="$2"
second="$3"
echo "== enqueue"
curl -sS -u "nanomdm:$API_KEY" -T "$plist" -w '\n%{http_code}\n' "$BASE_URL/v1/enqueue/$ids?nopush=1"
echo "== push"
curl -sS -u "nanomdm:$API_KEY" -w '\n%{http_code}\n' "$BASE_URL/v1/push/$ids"
echo "== enqueue and push"
curl -sS -u "nanomdm:$API_KEY" -T "$second" -w '\n%{http_code}\n' "$BASE_URL/v1/enqueue/$ids"
echo "== wrong password"
curl -sS -o /dev/null -u "nanomdm:wrong" -w '%{http_code}\n' "$BASE_URL/v1/push/$ids"
