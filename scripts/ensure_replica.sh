#!/usr/bin/env bash
# Two PostgreSQL servers of this project's own, for the raw side on a read replica
# (docs/operations.md, "The raw side on a read replica"): a primary on $REPLICA_PRIMARY_PORT
# (5433, wal_level = logical) and a logical-replication subscriber on $REPLICA_PORT (5434),
# their data under $REPLICA_DIR (/var/tmp/emr-etl-replica), user postgres with trust auth on
# 127.0.0.1 only. The machine's own PostgreSQL (5432) is left alone.
#
# Idempotent: creates and starts what is missing, leaves the rest. With a database name
# ($1), also that database on both servers with the raw tables of sql/emr_schema.sql, a
# publication `etl_raw` of those tables on the primary, and a subscription `etl_raw_<name>`
# to it on the subscriber, waiting for its initial copy. Prints the two URLs (`primary=...`, `replica=...`). Then run
# `manage.py init_emr --replica` with EMR_DATABASE_URL set to the replica's URL.
# `scripts/ensure_replica.sh --drop NAME` drops the subscription and both databases.
# Run as root, the servers run as the postgres user (CI); otherwise as the caller.
set -euo pipefail
cd "$(dirname "$0")/.."
drop=0
if [ "${1:-}" = --drop ]; then drop=1; shift; fi
db_name=${1:-}
primary_port=${REPLICA_PRIMARY_PORT:-5433}
replica_port=${REPLICA_PORT:-5434}
base=${REPLICA_DIR:-/var/tmp/emr-etl-replica}

if [ -n "$db_name" ] && ! [[ "$db_name" =~ ^[a-z][a-z0-9_]{0,40}$ ]]; then
  echo "database name '$db_name': use lower-case letters, digits and _ (at most 41)" >&2
  exit 2
fi
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL's initdb is not installed (scripts/ensure_postgres.sh installs it, as root)" >&2
  exit 1
fi

owner=$(id -un)
[ "$(id -u)" = 0 ] && owner=postgres
as_owner() {
  if [ "$owner" = "$(id -un)" ]; then (cd "$base" && "$@"); else (cd "$base" && runuser -u "$owner" -- "$@"); fi
}
sql() {  # sql PORT DATABASE ARGS...: psql as postgres over TCP, stopping at the first error
  local port=$1 db=$2
  shift 2
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

server() {  # server NAME PORT: initialise (once) and start one server
  local dir=$base/$1 port=$2
  if [ ! -s "$dir/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale C.UTF-8 >/dev/null
    cat >>"$dir/postgresql.conf" <<EOF
# scripts/ensure_replica.sh
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = logical
max_wal_senders = 20
max_replication_slots = 20
max_logical_replication_workers = 8
max_worker_processes = 16
shared_buffers = 64MB
EOF
  fi
  if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || { echo "the $1 server did not start: see $dir/server.log" >&2; exit 1; }
  fi
  local serving
  serving=$(sql "$port" postgres -c "SHOW data_directory" 2>/dev/null) || serving="?"
  if [ "$serving" != "$dir" ]; then
    echo "port $port answers, but not with the $1 server of $dir ($serving): set REPLICA_PRIMARY_PORT/REPLICA_PORT" >&2
    exit 1
  fi
}

mkdir -p "$base"
[ "$owner" = "$(id -un)" ] || chown "$owner" "$base"
server primary "$primary_port"
server replica "$replica_port"
[ "$(sql "$primary_port" postgres -c 'SHOW wal_level')" = logical ] || {
  echo "the primary on $primary_port has no wal_level = logical" >&2; exit 1; }

[ -n "$db_name" ] || { echo "replication servers ready on ports $primary_port and $replica_port"; exit 0; }

subscription=etl_raw_$db_name
exists() { [ "$(sql "$1" postgres -c "SELECT 1 FROM pg_database WHERE datname = '$2'")" = 1 ]; }

if [ "$drop" = 1 ]; then
  if exists "$replica_port" "$db_name"; then
    # Dropping the subscription also drops its replication slot on the primary.
    if [ "$(sql "$replica_port" "$db_name" -c "SELECT 1 FROM pg_subscription WHERE subname = '$subscription'")" = 1 ]; then
      sql "$replica_port" "$db_name" -c "DROP SUBSCRIPTION $subscription"
    fi
    sql "$replica_port" postgres -c "DROP DATABASE $db_name WITH (FORCE)"
  fi
  if exists "$primary_port" "$db_name"; then
    sql "$primary_port" postgres -c "DROP DATABASE $db_name WITH (FORCE)"
  fi
  exit 0
fi

# The raw tables are those sql/emr_schema.sql creates; DDL does not replicate, so both get them.
raw_tables=$(grep -oE '^CREATE TABLE IF NOT EXISTS [a-z_]+' sql/emr_schema.sql | awk '{print $NF}' | paste -sd, -)
for port in "$primary_port" "$replica_port"; do
  exists "$port" "$db_name" || sql "$port" postgres -c "CREATE DATABASE $db_name"
  sql "$port" "$db_name" -f sql/emr_schema.sql
done
if [ "$(sql "$primary_port" "$db_name" -c "SELECT 1 FROM pg_publication WHERE pubname = 'etl_raw'")" != 1 ]; then
  sql "$primary_port" "$db_name" -c "CREATE PUBLICATION etl_raw FOR TABLE $raw_tables"
fi
if [ "$(sql "$replica_port" "$db_name" -c "SELECT 1 FROM pg_subscription WHERE subname = '$subscription'")" != 1 ]; then
  sql "$replica_port" "$db_name" -c "CREATE SUBSCRIPTION $subscription
    CONNECTION 'host=127.0.0.1 port=$primary_port user=postgres dbname=$db_name' PUBLICATION etl_raw"
fi
# Wait for the initial copy of every table: its workers lock the tables they fill, and DDL
# run meanwhile on the subscriber (init_emr's CREATE INDEX IF NOT EXISTS) can deadlock with them.
for _ in $(seq 1 600); do
  [ "$(sql "$replica_port" "$db_name" -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")" = 0 ] && break
  sleep 0.2
done
[ "$(sql "$replica_port" "$db_name" -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")" = 0 ] || {
  echo "the subscription $subscription did not finish its initial copy within 120 s" >&2; exit 1; }
echo "primary=postgres://postgres@127.0.0.1:$primary_port/$db_name"
echo "replica=postgres://postgres@127.0.0.1:$replica_port/$db_name"
