#!/usr/bin/env bash
# Make a PostgreSQL server answer at $PGHOST:$PGPORT for user $PGUSER without a password
# (trust auth), and create database $1 if it is missing. Installs and starts the server
# when this machine has none (Debian, as root); used by CI and by `make test-postgres`.
set -euo pipefail
db_name=${1:-emr_etl}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}

answers() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PostgreSQL from the Debian packages" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is not installed and cannot be installed here (needs root and apt-get)" >&2
    exit 1
  fi
fi

if ! answers; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do answers && break; sleep 1; done
fi
answers || { echo "PostgreSQL does not answer on $PGHOST:$PGPORT" >&2; exit 1; }

if ! psql -X -q -d postgres -c 'select 1' >/dev/null 2>&1; then
  # A fresh Debian install asks for a password on TCP: trust local TCP connections instead.
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if [ -w "$hba" ]; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    sleep 1
  fi
  psql -X -q -d postgres -c 'select 1' >/dev/null || { echo "cannot log in to PostgreSQL as $PGUSER" >&2; exit 1; }
fi

exists=$(psql -X -tA -d postgres -c "select 1 from pg_database where datname = '$db_name'")
[ "$exists" = 1 ] || psql -X -q -d postgres -c "create database \"$db_name\"" >/dev/null
