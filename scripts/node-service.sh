#!/usr/bin/env bash
# Starts a Herald process from its TypeScript entry point with the Node runtime flags the service
# is run and measured with (npm start, the service:* scripts and the bench all come through here).
# Usage: bash scripts/node-service.sh ENTRY.ts [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

# A 64 MB young generation instead of V8's 16 MB. At full rate the notifier allocates fast enough
# to fill 16 MB about 34 times a second, and those scavenges took 18 % of the main thread; each
# one costs about what survives it, not the space's size, so a 4 times larger space cut the
# collector's share to 11 % (bench "GC pauses" row; README, Performance) for about 100 MB more RSS.
# A caller's own NODE_OPTIONS come after, so they can override it.
export NODE_OPTIONS="--max-semi-space-size=64${NODE_OPTIONS:+ $NODE_OPTIONS}"
exec node_modules/.bin/tsx "$@"
