#!/usr/bin/env bash
# Start a throwaway PostgreSQL server from Debian's packages on loopback and print its URL.
# Usage: scripts/pg-throwaway.sh [start|stop] [DIR]   (port: $PGPORT, default 55432)
set -euo pipefail
action=${1:-start}
dir=${2:-/tmp/dragonnet-pg}
port=${PGPORT:-55432}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ]; then
  echo "PostgreSQL server not installed: apt-get install postgresql" >&2
  exit 1
fi
as_pg() {
  # PostgreSQL refuses to run as root; run its tools as the postgres user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$action" in
  stop)
    [ -d "$dir/data" ] && as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop] [DIR]" >&2; exit 2 ;;
esac
url="postgresql://dragonnet@127.0.0.1:$port/dragonnet"
if as_pg "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
  echo "$url"; exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
as_pg "$pgbin/initdb" -D "$dir/data" -A trust -U dragonnet -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off" \
  start >/dev/null
as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U dragonnet dragonnet
echo "$url"
