#!/usr/bin/env bash
# bench/projections.sh (bench/run projections): the projections' lag at 10,000 events/s and the
# rebuild's throughput against PostgreSQL's own COPY, measured by bench_projections
# (bench/projections.c) against a PostgreSQL 15 and a Redis started here.
#
# Both servers run on 127.0.0.1 on free ports, with their own configuration and data under the
# data directory given as $1, and are stopped and removed at the end, on failure and on a signal
# too. PostgreSQL keeps its defaults (fsync and synchronous_commit on) and refuses to run as
# root: when run as root it runs as "nobody". Redis runs with appendonly yes (fsync every
# second, its default). The benchmark and both servers share the machine's cores.
set -euo pipefail

data="$(cd "${1:?usage: bench/projections.sh DATA_DIR (bench/run projections gives one)}" && pwd)"
build="${BENCH_BUILD_DIR:?bench/run sets BENCH_BUILD_DIR}"
bench="$build/bench/bench_projections"
pg_bin="/usr/lib/postgresql/15/bin"
START_TRIES=300 # of 0.1 s: how long a server may take to accept connections

fail() {
    echo "bench/projections.sh: $*" >&2
    exit 1
}

[[ -x "$bench" ]] || fail "$bench is missing: install libpq-dev and libhiredis-dev (scripts/setup)"
for tool in redis-server redis-cli "$pg_bin/initdb" "$pg_bin/pg_ctl"; do
    command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/setup as root"
done

bench_pid=""
redis_pid=""
pg_data=""
as_pg=() # the prefix that runs a PostgreSQL program as its unprivileged user

stop_pid() {
    local pid="$1" tries=0
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && ((tries++ < 100)); do
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    set +e
    stop_pid "$bench_pid"
    bench_pid=""
    stop_pid "$redis_pid"
    redis_pid=""
    if [[ -n "$pg_data" ]]; then
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t 20 stop >/dev/null 2>&1
        pg_data=""
    fi
    rm -rf "$data/postgres" "$data/redis" "$data/bench"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nothing listens on, below the ephemeral range (as tests/support/servers.sh).
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    fail "no free port"
}

start_postgres() {
    local dir="$data/postgres"
    mkdir -p "$dir"
    if [[ "$(id -u)" -eq 0 ]]; then
        # Its directory belongs to nobody, who must reach it through the data directory.
        chmod 0711 "$data"
        chown nobody "$dir"
        as_pg=(runuser -u nobody --)
        "${as_pg[@]}" test -w "$dir" ||
            fail "user nobody cannot write $dir: a parent directory is not searchable by others"
    fi
    pg_port="$(free_port)"
    "${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U bench -A trust -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1 || fail "initdb failed: $(tail -n 3 "$dir/initdb.log")"
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$dir'
max_connections = 50
CONF
    pg_data="$dir/data"
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$dir/server.log" -w -t 30 start \
        >/dev/null || fail "PostgreSQL did not start: $(tail -n 3 "$dir/server.log")"
    pg_conninfo="postgresql://bench@127.0.0.1:$pg_port/postgres"
}

start_redis() {
    local dir="$data/redis" tries=0
    mkdir -p "$dir"
    redis_port="$(free_port)"
    redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir" --daemonize no \
        --logfile "$dir/redis.log" --save '' --appendonly yes &
    redis_pid=$!
    until [[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" == PONG ]]; do
        ((tries++ < START_TRIES)) || fail "redis did not start: $(tail -n 3 "$dir/redis.log")"
        kill -0 "$redis_pid" 2>/dev/null || fail "redis exited: $(tail -n 3 "$dir/redis.log")"
        sleep 0.1
    done
}

start_postgres
start_redis
mkdir -p "$data/bench"
# In the background and waited for, so that a signal is handled at once.
"$bench" "$data/bench" "$pg_conninfo" "$redis_port" &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=""
exit "$status"
