#!/usr/bin/env bash
# Makes a fresh machine ready for `npm start` (default) or `npm test` (--test):
# dependencies, Postgres and Redis reachable, database created, client generated, migrations applied.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--test" ]]; then
  export DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/herald_test}"
  # The monitoring page's browser test drives Debian's chromium (notes/toolchain.md, "Browser tests").
  if [[ ! -x /usr/bin/chromium ]] && command -v apt-get >/dev/null; then
    printf '[setup] %s\n' "installing chromium for the browser tests"
    (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null || printf '[setup] %s\n' "could not install chromium; the browser test will be skipped"
  fi
else
  export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/herald}"
fi
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
say() { printf '[setup] %s\n' "$*"; }

# 1. Dependencies (npm ci only when the lockfile changed since the last install).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing dependencies"
  # npm ci is exact; npm install is the fallback when npm 11 rejects the lockfile for optional
  # native packages of other platforms that this registry does not serve (msgpackr-extract's
  # darwin/win32 builds here: npm/cli#9846). Its long usage text is kept out of the log.
  npm_ci_log=$(mktemp)
  if ! npm ci --no-audit --no-fund --loglevel=error 2>"$npm_ci_log"; then
    say "npm ci refused the lockfile ($(grep -m1 -o 'Missing: [^ ]*' "$npm_ci_log" || echo 'see npm output')); npm install instead"
    npm install --no-audit --no-fund --loglevel=error
  fi
  rm -f "$npm_ci_log"
fi

# 2. Postgres and Redis: start local ones if they are installed but stopped.
db_host=$(node -e 'console.log(new URL(process.env.DATABASE_URL).hostname)')
db_port=$(node -e 'console.log(new URL(process.env.DATABASE_URL).port || 5432)')
redis_host=$(node -e 'console.log(new URL(process.env.REDIS_URL).hostname)')
redis_port=$(node -e 'console.log(new URL(process.env.REDIS_URL).port || 6379)')
is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]; }

pg_up() { node -e "const s=require('net').connect($db_port,'$db_host');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))"; }
redis_up() { node -e "const s=require('net').connect($redis_port,'$redis_host');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))"; }

if ! pg_up; then
  if is_local "$db_host" && command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
    say "starting the local Postgres cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi
if ! redis_up; then
  if is_local "$redis_host" && command -v redis-server >/dev/null; then
    say "starting a local Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" --appendonly no >/dev/null
  fi
fi
for _ in $(seq 1 30); do pg_up && redis_up && break; sleep 1; done
pg_up || { say "Postgres is not reachable at $db_host:$db_port. Set DATABASE_URL, or run: docker compose up -d"; exit 1; }
redis_up || { say "Redis is not reachable at $redis_host:$redis_port. Set REDIS_URL, or run: docker compose up -d"; exit 1; }

# 3. Database, client, migrations.
migrations_pending=0
npx tsx scripts/ensure-database.ts || { status=$?; [[ $status -eq 10 ]] && migrations_pending=1 || exit "$status"; }
if [[ ! -f lib/db/generated/client.ts || prisma/schema.prisma -nt lib/db/generated/client.ts ]]; then
  say "generating the Prisma client"
  # Prisma may try to fetch a native query engine it never loads with engineType "client";
  # pointing it at any existing file stops the download attempt (see README, "Database").
  PRISMA_QUERY_ENGINE_LIBRARY="${PRISMA_QUERY_ENGINE_LIBRARY:-$PWD/package.json}" npx prisma generate >/dev/null
fi
if [[ $migrations_pending -eq 1 ]]; then
  say "applying migrations to ${DATABASE_URL%%\?*}"
  if ! migrate_log=$(PRISMA_QUERY_ENGINE_LIBRARY="${PRISMA_QUERY_ENGINE_LIBRARY:-$PWD/package.json}" npx prisma migrate deploy 2>&1); then
    printf '%s\n' "$migrate_log"
    say "prisma migrate deploy failed; nothing was started"
    exit 1
  fi
  printf '%s\n' "$migrate_log" | grep -E "applied|No pending" || true
else
  say "migrations already applied to ${DATABASE_URL%%\?*}"
fi
