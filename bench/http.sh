#!/usr/bin/env bash
# bench/http.sh (bench/run http): foutad's durable HTTP appends against the machine's HTTP
# ceiling and two other stores, all driven by one load generator in the same run.
#
#   - foutad, default options (durable group commits, one request log line per request) but the
#     per-address rate limit (one load generator is one address): single-event POST
#     /api/v1/events on 16, 64 and 256 keep-alive connections, one request in flight on each,
#     signed in as a store_raw user made before the start (Authorization: Bearer on every
#     request); every answer must be a 201, the durable acknowledgement. Then GET /api/v1/head
#     (the lightest authenticated read) and GET /health/live (public, no token) on 64.
#   - HTTPS against HTTP, both with the token: a second foutad serves HTTPS (the development
#     certificate of scripts/devcert; the load generator speaks TLS through OpenSSL, handshakes
#     before the window) while the first still serves plain HTTP, and the POST and the read run
#     on 64 keep-alive connections against one then the other, TLS_ROUNDS times interleaved, so
#     that whatever else the machine does falls on both alike. tls_auth_ratio = the median over
#     the rounds of HTTPS POST rate / HTTP POST rate, each round's two runs being neighbours in
#     time (issue 5's target: >= 0.7).
#   - nginx answering 204 to the very same requests (one worker, no access log): what HTTP alone
#     costs on this machine.
#   - PostgreSQL 15 as an event store: one INSERT per event in its own transaction,
#     synchronous_commit on, 16 and 64 connections (libpq, one connection per client thread).
#   - Redis Streams: XADD with appendfsync always, 64 clients (hiredis, one per client thread).
#   - WebSocket fan-out: 1,000 subscribers to foutad's GET /api/v1/ws from now while events are
#     scheduled at 1,000 events/s (open loop, 16 posting connections); the rate achieved and the
#     delivery latency from each event's slot (its occurred_at_us) and from its acknowledgement.
#
# Every server is started here, on 127.0.0.1 on a free port, with its own configuration and data
# under the data directory given as $1, and stopped at the end, on failure and on a signal too.
# PostgreSQL refuses to run as root: when run as root it runs as "nobody". The load generator
# (bench/http_load.c, bench_http_load) and the server under test share the machine's cores: the
# figures are what one box does, client included. Prints a table, then one RESULT line.
set -euo pipefail

data="$(cd "${1:?usage: bench/http.sh DATA_DIR (bench/run http gives one)}" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BENCH_BUILD_DIR:?bench/run sets BENCH_BUILD_DIR}"
seconds="${BENCH_SECONDS:-2}"
load="$build/bench/bench_http_load"
foutad="$build/api/foutad"
pg_bin="/usr/lib/postgresql/15/bin"
WS_SUBSCRIBERS=1000
WS_RATE=1000
# Posting connections of the WebSocket run: with 1,000 subscribers, foutad's default limit of
# 1,024 connections leaves room for 16 and the one that reads the head.
WS_POSTERS=16
START_TRIES=300 # of 0.1 s: how long a server may take to accept connections
TLS_ROUNDS=5    # interleaved HTTP and HTTPS runs of each workload (odd: a median is one run)
TENANT=bench
USER_ID=bench-store
USER_ROLE=store_raw # a role the catalog allows to post GoodsReceived
LOGIN="$TENANT:$USER_ID"
# A fresh password per run, given to foutad --add-user and to the load generator through the
# environment only (never a command line).
BENCH_PASSWORD="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export BENCH_PASSWORD

fail() {
    echo "bench/http.sh: $*" >&2
    exit 1
}

[[ -x "$load" ]] || fail "$load is missing: install libpq-dev and libhiredis-dev (scripts/setup)"
[[ -x "$foutad" ]] || fail "$foutad is missing"
for tool in nginx redis-server redis-cli psql "$pg_bin/initdb" "$pg_bin/pg_ctl"; do
    command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/setup as root"
done

declare -A rows # "peer clients" -> the generator's line

# ---- Servers: started in the background, stopped by cleanup whatever happens. ----

foutad_pid=""
plain_pid="" # the plain foutad while the HTTPS one runs beside it
nginx_pid=""
redis_pid=""
pg_data=""
as_pg=() # the prefix that runs a PostgreSQL program as its unprivileged user

# Stops one background server: SIGTERM, then SIGKILL after 10 s.
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
    stop_pid "$foutad_pid"
    foutad_pid=""
    stop_pid "$plain_pid"
    plain_pid=""
    stop_pid "$nginx_pid"
    nginx_pid=""
    stop_pid "$redis_pid"
    redis_pid=""
    if [[ -n "$pg_data" ]]; then
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t 20 stop >/dev/null 2>&1
        pg_data=""
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs a command in the background and waits for it, so that a signal is handled at once.
run() {
    "$@" &
    wait $!
}

free_port() {
    "$load" free-port
}

# Waits until something accepts connections on the port; gives up at once if the server's
# process (pid, when given) has exited.
wait_port() {
    local port="$1" name="$2" pid="${3:-}" tries=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        ((tries++ < START_TRIES)) || fail "$name did not start"
        [[ -z "$pid" ]] || kill -0 "$pid" 2>/dev/null || fail "$name exited at its start"
        sleep 0.1
    done
}

# The value of key in a "key=value ..." line.
field() {
    local pair
    for pair in $1; do
        if [[ "$pair" == "$2="* ]]; then
            echo "${pair#*=}"
            return
        fi
    done
    echo 0
}

# Runs the load generator and keeps its key=value line in rows[KEY]. An error count above zero
# is reported in the table, not fatal. No command substitution around the run: a signal is
# handled at once.
measure() {
    local key="$1" out="$data/load.out"
    shift
    run "$load" "$@" --seconds "$seconds" >"$out" || true
    rows["$key"]="$(tail -n 1 "$out")"
    [[ "${rows[$key]}" == mode=* ]] || fail "bench_http_load $1 gave no result"
}

# Waits for a port file that a server writes once it listens.
wait_port_file() {
    local file="$1" name="$2" tries=0
    until [[ -s "$file" ]]; do
        ((tries++ < START_TRIES)) || fail "$name did not start: $(tail -n 3 "$data/$name/log")"
        sleep 0.1
    done
}

# foutad on a fresh data directory DIR (under the benchmark's), its user made before the start
# as an operator makes a tenant's first user. Extra arguments go to foutad (TLS). The general
# rate limit is off: all the load comes from one address, which foutad's default (60,000
# requests a minute, 1,000 a second after a burst of 10,000) would throttle within a second.
start_foutad() {
    local dir="$data/$1"
    shift
    mkdir -p "$dir"
    FOUTA_USER_PASSWORD="$BENCH_PASSWORD" "$foutad" --data-dir "$dir/data" \
        --add-user "$LOGIN:$USER_ROLE" >"$dir/add-user.log" 2>&1 ||
        fail "foutad --add-user failed: $(tail -n 3 "$dir/add-user.log")"
    "$foutad" --data-dir "$dir/data" --listen 127.0.0.1:0 --port-file "$dir/port" \
        --rate-per-min 0 "$@" 2>"$dir/log" &
    foutad_pid=$!
    wait_port_file "$dir/port" "$(basename "$dir")"
    foutad_port="$(cat "$dir/port")"
    wait_port "$foutad_port" foutad "$foutad_pid"
}

# The development certificate: scripts/devcert, or the same openssl command where it is absent.
make_cert() {
    local dir="$data/cert"
    if [[ -x "$root/scripts/devcert" ]]; then
        "$root/scripts/devcert" "$dir" >/dev/null
    else
        mkdir -p "$dir"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
            -sha256 -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj "/CN=localhost" \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
    fi
    [[ -s "$dir/cert.pem" && -s "$dir/key.pem" ]] || fail "no development certificate"
    cert="$dir/cert.pem"
    key="$dir/key.pem"
}

start_nginx() {
    local dir="$data/nginx" user=""
    mkdir -p "$dir"
    nginx_port="$(free_port)"
    # As root the master would run its worker as nobody; say so with a group that exists.
    [[ "$(id -u)" -eq 0 ]] && user="user nobody $(id -gn nobody);"
    cat >"$dir/nginx.conf" <<EOF
$user
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    client_body_temp_path $dir/body;
    server {
        listen 127.0.0.1:$nginx_port;
        location / { return 204; }
    }
}
EOF
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
    nginx_pid=$!
    wait_port "$nginx_port" nginx "$nginx_pid"
}

start_postgres() {
    local dir="$data/postgres"
    mkdir -p "$dir"
    if [[ "$(id -u)" -eq 0 ]]; then
        # PostgreSQL will not run as root. Its directory belongs to nobody, who must be able to
        # reach it through the data directory (mktemp made that one 0700).
        chmod 0711 "$data"
        chown nobody "$dir"
        as_pg=(runuser -u nobody --)
        "${as_pg[@]}" test -w "$dir" ||
            fail "user nobody cannot write $dir: a parent directory is not searchable by others"
    fi
    pg_port="$(free_port)"
    "${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U bench -A trust -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1 || fail "initdb failed: $(tail -n 3 "$dir/initdb.log")"
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$dir'
max_connections = 100
fsync = on
synchronous_commit = on
EOF
    pg_data="$dir/data"
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$dir/server.log" -w -t 30 start \
        >/dev/null || fail "PostgreSQL did not start: $(tail -n 3 "$dir/server.log")"
    pg_conninfo="host=127.0.0.1 port=$pg_port user=bench dbname=postgres"
    run psql -q -v ON_ERROR_STOP=1 "$pg_conninfo" -c "CREATE TABLE events (
        id uuid PRIMARY KEY, stream text NOT NULL, type text NOT NULL,
        payload jsonb NOT NULL, recorded_at timestamptz NOT NULL)" >/dev/null
}

start_redis() {
    local dir="$data/redis"
    mkdir -p "$dir"
    redis_port="$(free_port)"
    cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port $redis_port
dir $dir
daemonize no
logfile $dir/redis.log
save ""
appendonly yes
appendfsync always
EOF
    redis-server "$dir/redis.conf" &
    redis_pid=$!
    wait_port "$redis_port" redis "$redis_pid"
    local tries=0
    until [[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" == PONG ]]; do
        ((tries++ < START_TRIES)) || fail "redis did not answer"
        sleep 0.1
    done
}

# ---- The runs. ----


start_foutad foutad
for clients in 16 64 256; do
    measure "foutad $clients" http --port "$foutad_port" --connections "$clients" --expect 201 \
        --login "$LOGIN"
done
measure "head 64" http --port "$foutad_port" --connections 64 --expect 200 --login "$LOGIN" \
    --get /api/v1/head
measure "live 64" http --port "$foutad_port" --connections 64 --expect 200 --get /health/live
measure ws ws --port "$foutad_port" --subscribers "$WS_SUBSCRIBERS" --rate "$WS_RATE" \
    --posters "$WS_POSTERS" --login "$LOGIN"
ws_line="${rows[ws]}"
unset 'rows[ws]' # not a row of the table

# HTTPS beside HTTP: a second foutad like the first, its load on the TLS listener (its plain
# one only redirects), while the first keeps serving plain HTTP. Each round runs the POST on
# one then the other, then the read on one then the other.
plain_pid="$foutad_pid"
plain_port="$foutad_port"
make_cert
start_foutad foutad-tls --tls-cert "$cert" --tls-key "$key" --tls-listen 127.0.0.1:0 \
    --tls-port-file "$data/foutad-tls/tls-port"
wait_port_file "$data/foutad-tls/tls-port" foutad-tls
tls_port="$(cat "$data/foutad-tls/tls-port")"
wait_port "$tls_port" foutad-tls "$foutad_pid"
for ((round = 1; round <= TLS_ROUNDS; round++)); do
    measure "http post $round" http --port "$plain_port" --connections 64 --expect 201 \
        --login "$LOGIN"
    measure "https post $round" http --port "$tls_port" --connections 64 --expect 201 \
        --login "$LOGIN" --tls "$cert"
    measure "http head $round" http --port "$plain_port" --connections 64 --expect 200 \
        --login "$LOGIN" --get /api/v1/head
    measure "https head $round" http --port "$tls_port" --connections 64 --expect 200 \
        --login "$LOGIN" --get /api/v1/head --tls "$cert"
done
stop_pid "$foutad_pid"
foutad_pid=""
stop_pid "$plain_pid"
plain_pid=""

start_nginx
for clients in 16 64 256; do
    measure "nginx $clients" http --port "$nginx_port" --connections "$clients" --expect 204
done
stop_pid "$nginx_pid"
nginx_pid=""

start_postgres
for clients in 16 64; do
    measure "pg $clients" pg --conninfo "$pg_conninfo" --connections "$clients"
done
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 20 stop >/dev/null
pg_data=""

start_redis
measure "redis 64" redis --port "$redis_port" --connections 64
stop_pid "$redis_pid"
redis_pid=""

# ---- The table, the ratios, the RESULT line. ----

cores="$(nproc)"
echo "HTTP appends, ${seconds} s per run, one request in flight per connection; the load"
echo "generator and each server share this machine's $cores cores (figures include the client)."
echo
printf '%-36s %7s %10s %8s %8s %8s %8s %7s\n' "run" "clients" "events/s" "p50 ms" "p90 ms" \
    "p99 ms" "max ms" "errors"
print_row() {
    local key="$1" label="$2" line="${rows[$1]}"
    printf '%-36s %7s %10s %8s %8s %8s %8s %7s\n' "$label" "$(field "$line" clients)" \
        "$(field "$line" per_s)" "$(field "$line" p50_ms)" "$(field "$line" p90_ms)" \
        "$(field "$line" p99_ms)" "$(field "$line" max_ms)" "$(field "$line" errors)"
}
for clients in 16 64 256; do
    print_row "foutad $clients" "foutad POST, durable 201"
done
print_row "head 64" "foutad GET /api/v1/head (token)"
print_row "live 64" "foutad GET /health/live (no token)"
# The key of the median run of a paired workload ("http post": "http post 1".."http post N").
median_key() {
    local name="$1" round
    for ((round = 1; round <= TLS_ROUNDS; round++)); do
        echo "$(field "${rows["$name $round"]}" per_s) $name $round"
    done | sort -n | awk -v n="$TLS_ROUNDS" 'NR == int((n + 1) / 2) { print $2, $3, $4 }'
}
print_row "$(median_key "http post")" "POST, HTTP + token, median"
print_row "$(median_key "https post")" "POST, HTTPS + token, median"
print_row "$(median_key "http head")" "GET head, HTTP + token, median"
print_row "$(median_key "https head")" "GET head, HTTPS + token, median"
for clients in 16 64 256; do
    print_row "nginx $clients" "nginx 204 (HTTP ceiling)"
done
for clients in 16 64; do
    print_row "pg $clients" "PostgreSQL 15 INSERT, sync commit"
done
print_row "redis 64" "Redis XADD, appendfsync always"
echo
echo "WebSocket fan-out: $(field "$ws_line" subscribers) subscribers, $WS_RATE events/s" \
    "scheduled for ${seconds} s on $WS_POSTERS posting connections:"
echo "  $(field "$ws_line" posted) of $(field "$ws_line" scheduled) events posted" \
    "($(field "$ws_line" posted_per_s) events/s achieved, $(field "$ws_line" late) sent late)," \
    "$(field "$ws_line" delivered) of $(field "$ws_line" expected) deliveries," \
    "$(field "$ws_line" gaps) gaps"
echo "  POST latency:                            p50 $(field "$ws_line" post_p50_ms) ms," \
    "p99 $(field "$ws_line" post_p99_ms) ms"
echo "  delivery from the event's slot (occurred_at_us): p50 $(field "$ws_line" p50_ms) ms," \
    "p99 $(field "$ws_line" p99_ms) ms, max $(field "$ws_line" max_ms) ms"
echo "  delivery from the POST's 201:                    p50 $(field "$ws_line" ack_p50_ms) ms," \
    "p99 $(field "$ws_line" ack_p99_ms) ms"

per_s() { field "${rows[$1]}" per_s; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print 0 }'; }
f16="$(per_s "foutad 16")" f64="$(per_s "foutad 64")" f256="$(per_s "foutad 256")"
n64="$(per_s "nginx 64")" pg16="$(per_s "pg 16")" pg64="$(per_s "pg 64")"
r64="$(per_s "redis 64")"
pg_best="$(awk -v a="$pg16" -v b="$pg64" 'BEGIN { print (a > b ? a : b) }')"
ratio_nginx="$(ratio "$f64" "$n64")"
ratio_pg="$(ratio "$f64" "$pg_best")"
ratio_redis="$(ratio "$f64" "$r64")"
p50_64="$(field "${rows["foutad 64"]}" p50_ms)"
p99_64="$(field "${rows["foutad 64"]}" p99_ms)"
ws_p99="$(field "$ws_line" p99_ms)"
h64="$(per_s "head 64")" l64="$(per_s "live 64")"
pp64="$(per_s "$(median_key "http post")")" tp64="$(per_s "$(median_key "https post")")"
ph64="$(per_s "$(median_key "http head")")" th64="$(per_s "$(median_key "https head")")"
# The median over the rounds of the HTTPS run's rate over its neighbouring HTTP run's.
median_ratio() {
    local round
    for ((round = 1; round <= TLS_ROUNDS; round++)); do
        ratio "$(field "${rows["$2 $round"]}" per_s)" "$(field "${rows["$1 $round"]}" per_s)"
        echo
    done | sort -n | awk -v n="$TLS_ROUNDS" 'NR == int((n + 1) / 2)'
}
tls_ratio="$(median_ratio "http post" "https post")"
tls_read_ratio="$(median_ratio "http head" "https head")"
token_read_ratio="$(ratio "$h64" "$l64")"
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
    ok = (op == ">=") ? v >= t : v < t; print (ok ? "met" : "NOT met") }'; }
echo
echo "At 64 connections (targets are compared, not asserted):"
echo "  foutad / nginx       $ratio_nginx  (target >= 0.5: $(verdict "$ratio_nginx" ">=" 0.5))"
echo "  foutad / PostgreSQL  $ratio_pg  (best of 16 and 64; target >= 3: $(verdict "$ratio_pg" ">=" 3))"
echo "  foutad / Redis       $ratio_redis  (target >= 1: $(verdict "$ratio_redis" ">=" 1))"
echo "  foutad p99           $p99_64 ms  (target < 10 ms: $(verdict "$p99_64" "<" 10))"
echo "  HTTPS / HTTP POST    $tls_ratio  (both with the token, median of $TLS_ROUNDS interleaved" \
    "rounds; target >= 0.7: $(verdict "$tls_ratio" ">=" 0.7))"
echo "  HTTPS / HTTP read    $tls_read_ratio  (GET /api/v1/head with the token, the same way)"
round_rates() {
    local round out=""
    for ((round = 1; round <= TLS_ROUNDS; round++)); do
        out+="$(field "${rows["$1 $round"]}" per_s) "
    done
    echo "$out"
}
echo "    each round, events/s: HTTP POST $(round_rates "http post")| HTTPS POST" \
    "$(round_rates "https post")"
echo "    each round, reads/s:  HTTP GET  $(round_rates "http head")| HTTPS GET " \
    "$(round_rates "https head")"
echo "  read with a token / public read  $token_read_ratio  (GET /api/v1/head over GET /health/live)"
echo "  WebSocket p99        $ws_p99 ms  (from the slot; target < 50 ms: $(verdict "$ws_p99" "<" 50))"
ws_rate="$(field "$ws_line" posted_per_s)"
echo "  WebSocket rate       $ws_rate events/s posted  (asked $WS_RATE:" \
    "$(verdict "$ws_rate" ">=" "$((WS_RATE * 98 / 100))"))"

errors=0
for key in "${!rows[@]}"; do
    errors=$((errors + $(field "${rows[$key]}" errors)))
done
errors=$((errors + $(field "$ws_line" post_errors)))
if ((errors > 0)); then
    echo "  warning: $errors requests failed (see the messages above); their rates are suspect"
fi

echo "RESULT events_per_s_c16=$f16 events_per_s_c64=$f64 events_per_s_c256=$f256" \
    "p50_ms_c64=$p50_64 p99_ms_c64=$p99_64 nginx_rps_c64=$n64 pg_events_per_s_c16=$pg16" \
    "pg_events_per_s_c64=$pg64 redis_events_per_s_c64=$r64 ratio_vs_nginx=$ratio_nginx" \
    "ratio_vs_pg=$ratio_pg ratio_vs_redis=$ratio_redis ws_p99_ms=$ws_p99" \
    "head_rps_c64=$h64 live_rps_c64=$l64 http_auth_events_per_s_c64=$pp64" \
    "tls_auth_events_per_s_c64=$tp64 http_auth_head_rps_c64=$ph64 tls_auth_head_rps_c64=$th64" \
    "tls_read_ratio=$tls_read_ratio tls_auth_ratio=$tls_ratio"
