#!/usr/bin/env bash
# Real PostgreSQL 15 and Redis on loopback for the projection tests, in a scratch directory.
#   servers.sh run COMMAND [ARGS]   starts both, runs COMMAND with FL_TEST_PG_URL,
#                                    FL_TEST_REDIS_URL, FL_TEST_SERVERS (the directory) and
#                                    FL_TEST_SERVERS_SH (this script), then stops both
#   servers.sh pg-stop|pg-start|pg-kill|redis-stop|redis-start|redis-kill DIR
#   servers.sh pg-pause|pg-resume|redis-pause|redis-resume DIR
#                                    SIGSTOP / SIGCONT: a server that takes connections and
#                                    answers nothing (PostgreSQL: the postmaster and its children)
# As root, PostgreSQL runs as the postgres user (the Debian package's), else as nobody.
set -euo pipefail
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
pg_bin=/usr/lib/postgresql/15/bin

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    local user=postgres
    id -u postgres >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# A TCP port nothing listens on (bash's /dev/tcp: a refused connection means free), below the
# ephemeral range, where an outgoing connection could hold it without listening.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "servers.sh: no free port" >&2
  return 1
}

pg_start() {
  local dir=$1
  as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/sock/pg.log" -w -t 30 \
    -o "-p $(cat "$dir/pg.port") -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=${FL_PG_FSYNC:-off} -c max_connections=50" \
    start >/dev/null || {
    echo "servers.sh: postgres did not start on port $(cat "$dir/pg.port"):" >&2
    tail -5 "$dir/sock/pg.log" >&2 || true
    return 1
  }
}
pg_stop() { as_pg "$pg_bin/pg_ctl" -D "$1/pg" -m fast -w -t 30 stop >/dev/null; }
pg_kill() { kill -9 "$(head -1 "$1/pg/postmaster.pid")"; }
# The postmaster first, so that it forks no backend the list below would miss.
pg_pause() {
  local pm
  pm=$(head -1 "$1/pg/postmaster.pid")
  kill -STOP "$pm"
  { pgrep -P "$pm" || true; } | xargs -r kill -STOP 2>/dev/null || true # one may have ended
}
pg_resume() {
  local pm
  pm=$(head -1 "$1/pg/postmaster.pid")
  { pgrep -P "$pm" || true; } | xargs -r kill -CONT 2>/dev/null || true
  kill -CONT "$pm"
}

redis_start() {
  local dir=$1
  redis-server --port "$(cat "$dir/redis.port")" --bind 127.0.0.1 --dir "$dir/redis" \
    --appendonly yes --save '' --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 1 100); do
    redis-cli -p "$(cat "$dir/redis.port")" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  echo "servers.sh: redis did not start on port $(cat "$dir/redis.port"):" >&2
  tail -5 "$dir/redis.log" >&2 || true
  return 1
}
redis_stop() { redis-cli -p "$(cat "$1/redis.port")" shutdown >/dev/null 2>&1 || true; wait_gone "$1/redis.pid"; }
redis_pause() { kill -STOP "$(cat "$1/redis.pid")"; }
redis_resume() { kill -CONT "$(cat "$1/redis.pid")"; }
redis_kill() { kill -9 "$(cat "$1/redis.pid")"; wait_gone "$1/redis.pid"; rm -f "$1/redis.pid"; }
wait_gone() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
}

run() {
  dir=$(mktemp -d "${TMPDIR:-/tmp}/fouta-servers-XXXXXX")
  chmod 755 "$dir"
  mkdir -p "$dir/pg" "$dir/sock" "$dir/redis"
  [ "$(id -u)" -eq 0 ] && chown "$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)" \
    "$dir/pg" "$dir/sock" && chmod 700 "$dir/pg"
  free_port >"$dir/pg.port"
  until port=$(free_port) && [ "$port" != "$(cat "$dir/pg.port")" ]; do :; done
  echo "$port" >"$dir/redis.port"
  cleanup() {
    pg_resume "$dir" 2>/dev/null || true # a test that failed while they were paused
    redis_resume "$dir" 2>/dev/null || true
    pg_stop "$dir" 2>/dev/null || true
    redis_stop "$dir" 2>/dev/null || true
    rm -rf "$dir"
  }
  trap cleanup EXIT
  as_pg "$pg_bin/initdb" -D "$dir/pg" -U fouta --auth=trust -E UTF8 --no-sync >/dev/null
  if ! pg_start "$dir"; then
    free_port >"$dir/pg.port"
    pg_start "$dir"
  fi
  if ! redis_start "$dir"; then
    free_port >"$dir/redis.port"
    redis_start "$dir"
  fi
  export FL_TEST_PG_URL="postgresql://fouta@127.0.0.1:$(cat "$dir/pg.port")/postgres"
  export FL_TEST_REDIS_URL="redis://127.0.0.1:$(cat "$dir/redis.port")"
  export FL_TEST_SERVERS="$dir" FL_TEST_SERVERS_SH="$script"
  local rc=0
  "$@" || rc=$?
  return $rc
}

case "${1:-}" in
run) shift; run "$@" ;;
pg-stop) pg_stop "$2" ;;
pg-start) pg_start "$2" ;;
pg-kill) pg_kill "$2" ;;
pg-pause) pg_pause "$2" ;;
pg-resume) pg_resume "$2" ;;
redis-pause) redis_pause "$2" ;;
redis-resume) redis_resume "$2" ;;
redis-stop) redis_stop "$2" ;;
redis-start) redis_start "$2" ;;
redis-kill) redis_kill "$2" ;;
*) echo "usage: servers.sh run COMMAND... | pg-stop|pg-start|pg-kill|pg-pause|pg-resume|redis-stop|redis-start|redis-kill|redis-pause|redis-resume DIR" >&2; exit 2 ;;
esac
