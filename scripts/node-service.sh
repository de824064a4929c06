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
# V8's background threads (concurrent marking, the scavenger's helpers, the optimizing
# compiler) number 4 by default whatever the machine. On 2 cores shared with Postgres they took
# turns on the CPUs with the event loop: at max rate the main thread waited for a CPU 31-33 %
# of the time and ran 59-61 %; with one such thread it waited 28-29 % and ran 63-65 %, and p99
# publish→SENT at 500 events/s came down (median 31.5 → 29 ms, lower in 7 of 8 alternating
# pairs of runs) with throughput unchanged (README, Performance). One fewer than the cores, at
# least 1 and never more than Node's default.
cores=$(nproc 2>/dev/null || echo 2)
pool=$(( cores - 1 < 1 ? 1 : cores - 1 > 4 ? 4 : cores - 1 ))
# A caller's own NODE_OPTIONS come after, so they can override both.
export NODE_OPTIONS="--max-semi-space-size=64 --v8-pool-size=$pool${NODE_OPTIONS:+ $NODE_OPTIONS}"

# The old generation may grow to twice what survived its last full collection. Left to
# itself, V8 picks that factor (up to 4) from how fast it collects against how fast the process
# allocates, and under steady load the committed heap crept up for minutes (RSS +10-15 % first
# → last tenth of a max-rate window) while the live heap stayed level. With the fixed factor
# RSS holds level, 50-90 MB lower, and the main thread's GC pauses do not grow (the full
# collections mark concurrently; README, Performance). NODE_OPTIONS does not accept this V8
# flag, so it is given to node itself, which loads the TypeScript entry through tsx's loader.
exec node --heap-growing-percent=100 --import tsx "$@"
