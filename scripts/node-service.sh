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

# The old generation may grow to twice what survived its last full collection. Left to
# itself, V8 picks that factor (up to 4) from how fast it collects against how fast the process
# allocates, and under steady load the committed heap crept up for minutes (RSS +10-15 % first
# → last tenth of a max-rate window) while the live heap stayed level. With the fixed factor
# RSS holds level, 50-90 MB lower, and the main thread's GC pauses do not grow (the full
# collections mark concurrently; README, Performance). NODE_OPTIONS does not accept this V8
# flag, so it is given to node itself, which loads the TypeScript entry through tsx's loader.
exec node --heap-growing-percent=100 --import tsx "$@"
