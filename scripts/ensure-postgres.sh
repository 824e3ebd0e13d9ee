#!/usr/bin/env bash
# Make sure a PostgreSQL server is running locally with a role the tests can use; print its admin URL.
# Installs the server from Debian's packages when it is missing (needs root, as on CI), starts it when it is stopped,
# and creates the role `mtx` (password `mtx`, CREATEDB) so the URL works whatever the local auth method is.
set -euo pipefail
log() { echo "ensure-postgres: $*" >&2; }
as_postgres() { if command -v runuser >/dev/null; then runuser -u postgres -- "$@"; else su postgres -c "$(printf '%q ' "$@")"; fi; }

if [ -n "${MTX_TEST_DATABASE_URL:-}" ]; then echo "$MTX_TEST_DATABASE_URL"; exit 0; fi

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  log "PostgreSQL is not installed; installing it from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || pg_ctlcluster "$version" main start >&2
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'mtx'" | grep -q 1 \
  || as_postgres psql -qc "CREATE ROLE mtx LOGIN CREATEDB PASSWORD 'mtx'" >&2
echo "postgresql://mtx:mtx@127.0.0.1:5432/postgres"
