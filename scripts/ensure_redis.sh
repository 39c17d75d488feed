#!/usr/bin/env bash
# Make a Redis server answer on 127.0.0.1:6379 (installs it from the Debian packages when
# this machine has none, as root). Used by CI for the Celery worker test.
set -euo pipefail
answers() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Redis from the Debian packages" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "Redis is not installed and cannot be installed here (needs root and apt-get)" >&2
    exit 1
  fi
fi
if ! answers; then
  echo "starting Redis" >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 20); do answers && break; sleep 0.5; done
fi
answers || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
