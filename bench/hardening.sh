#!/usr/bin/env bash
# bench/hardening.sh (bench/run hardening): the hardening report - that nothing acknowledged is
# lost, under fuzzing, kills and time. Writes bench/hardening-report.md and prints it, then one
# RESULT line.
#
#   - Fuzzing: every libFuzzer target of tests/fuzz (tests/fuzz/run: clang, ASan + UBSan, from
#     the committed seed corpus) for FUZZ_SECONDS each; executions and failures per target.
#   - Crash rounds: tests/clients/test_crash_http (the suite's sanitizer build) with
#     FL_CRASH_ROUNDS rounds: four clients post through HTTP, foutad is SIGKILLed, restarted on
#     the same data, and every acknowledged event is read back; then verify-state on the ledger.
#     Then tests/clients/test_crash_sinks, the same rounds with both projections on (a real
#     PostgreSQL and Redis, tests/support/servers.sh): after the last restart both catch up and
#     equal the ledger, each event applied and published once.
#   - Faults: the suites that inject them (the suite's sanitizer build), each test's outcome:
#     allocation failures, LMDB's map and the disk full, the append queue full, the writer
#     stalled by another process's lock, a full and a read-only filesystem under foutad, and
#     PostgreSQL and Redis stopped, paused, locked, dropped, refusing and killed mid-batch (the
#     real servers, tests/support/servers.sh).
#   - Soak: a Release foutad and the plant simulator's mix - every role's events, each signed in
#     as its role's user, in the order that matters (fouta-sim --post) - paced at half the
#     capacity the same mix reached unpaced (a probe on a tenant of its own), for SOAK_SECONDS,
#     while SOAK_SUBSCRIBERS WebSocket subscribers follow the tenant. In windows of
#     SOAK_WINDOW_SECONDS: the events the subscribers saw (bench_http_load observe: each from the
#     head at the window's start to the head at its end, no gap, nothing missing), their delivery
#     latency from each event's recorded_at_us, fouta-sim's own window (request latency, how far
#     behind its pace), the server's memory and open descriptors, and the CPU of foutad and of
#     fouta-sim (the generator shares the cores). Memory is read as anonymous RSS (the heap: what
#     a leak grows) apart from file-backed RSS (LMDB's map: the log's pages the kernel keeps
#     mapped, which grows with the log and is given back under pressure). The growth is the last
#     window's anonymous RSS against the baseline: the window a quarter into the run, the second
#     at the earliest (the warm-up before it: allocator arenas and buffers reaching their working
#     size).
#
# Environment: HARDENING_PARTS (default "fuzz crash faults soak"; a part left out is skipped,
# and the report then goes to the data directory and stdout, bench/hardening-report.md being
# the whole run's), FUZZ_SECONDS (default 20), CRASH_ROUNDS (default 12), SOAK_SECONDS (default
# 120; an hour is 3600), SOAK_WINDOW_SECONDS (default 10), SOAK_SUBSCRIBERS (default 20),
# SOAK_LOOMS (default 200), SOAK_CONNECTIONS (default 32), SOAK_BATCH (default 1: the phones
# post each event as it happens; a paced run batches only events already late), SOAK_RATE
# (default: half the probe's capacity).
set -euo pipefail

data="$(cd "${1:?usage: bench/hardening.sh DATA_DIR (bench/run hardening gives one)}" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BENCH_BUILD_DIR:?bench/run sets BENCH_BUILD_DIR}"
test_build="${FL_TEST_BUILD_DIR:-$root/build-test}"
fuzz_seconds="${FUZZ_SECONDS:-20}"
crash_rounds="${CRASH_ROUNDS:-12}"
soak_seconds="${SOAK_SECONDS:-120}"
window="${SOAK_WINDOW_SECONDS:-10}"
subscribers="${SOAK_SUBSCRIBERS:-20}"
soak_looms="${SOAK_LOOMS:-200}"
soak_connections="${SOAK_CONNECTIONS:-32}"
soak_batch="${SOAK_BATCH:-1}"
parts=" ${HARDENING_PARTS:-fuzz crash faults soak} "
report="$root/bench/hardening-report.md"
[[ "$parts" == " fuzz crash faults soak " ]] || report="$data/hardening-report.md"
load="$build/bench/bench_http_load"
foutad="$build/api/foutad"
sim="$build/clients/fouta-sim"
PROBE_SECONDS=15       # the capacity probe: its first window is mostly sign-ins (Argon2id),
PROBE_WINDOW_SECONDS=3 # one per connection and role; the rest are averaged
SIM_EVENTS_PER_DAY=7000 # the simulator's plant makes about 8,200 a day from 200 looms up
SIM_DAYS_MAX=3660       # clients/sim/sim.h
ROLES="admin manager weaver cutter mechanic store_raw store_finished store_subcontract quality"
BENCH_PASSWORD="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export BENCH_PASSWORD

fail() {
    echo "bench/hardening.sh: $*" >&2
    exit 1
}

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

part() { [[ "$parts" == *" $1 "* ]]; }

foutad_pid="" sim_pid=""
cleanup() {
    local pid
    for pid in "$sim_pid" "$foutad_pid"; do
        if [[ -n "$pid" ]]; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    sim_pid="" foutad_pid=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# ---- fuzzing ----

fuzz_part() {
    fuzz_out="$data/fuzz.out"
    "$root/tests/fuzz/run" "$fuzz_seconds" >"$fuzz_out" 2>&1 || true
    fuzz_result="$(grep '^RESULT ' "$fuzz_out" | tail -n 1)" ||
        fail "tests/fuzz/run: $(tail -n 5 "$fuzz_out")"
    fuzz_runs="$(field "$fuzz_result" fuzz_runs)"
    fuzz_crashes="$(field "$fuzz_result" fuzz_crashes)"
}

# ---- crash rounds ----

test_build_configure() {
    if [[ ! -f "$test_build/build.ninja" ]]; then
        cmake -S "$root" -B "$test_build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFL_WERROR=ON \
            -DFL_SANITIZE=address,undefined >/dev/null
    fi
}

crash_part() {
    test_build_configure
    ninja -C "$test_build" test_crash_http test_crash_sinks fouta-replay foutad >/dev/null
    crash_out="$data/crash.out"
    crash_status=0
    FL_CRASH_ROUNDS="$crash_rounds" "$test_build/tests/test_crash_http" --verbose \
        >"$crash_out" 2>&1 || crash_status=$?
    crash_line="$(grep -o '[0-9]* events acknowledged over [0-9]* kills of foutad, [0-9]* lost' \
        "$crash_out" | tail -n 1)" || true
    if [[ -z "$crash_line" ]]; then
        fail "test_crash_http gave no count (status $crash_status): $(tail -n 8 "$crash_out")"
    fi
    acked_checked="$(echo "$crash_line" | awk '{print $1}')"
    acked_lost="$(echo "$crash_line" | awk '{print $(NF-1)}')"
    crash_verdict="passed"
    [[ "$crash_status" -eq 0 ]] || crash_verdict="FAILED (see the test's output)"
    # The same with both projections on: they must converge exactly after the last restart.
    local sinks_out="$data/crash-sinks.out" sinks_status=0
    FL_CRASH_ROUNDS="$crash_rounds" "$root/tests/support/servers.sh" run \
        "$test_build/tests/test_crash_sinks" --verbose >"$sinks_out" 2>&1 || sinks_status=$?
    sinks_line="$(grep -o '[0-9]* events acknowledged over [0-9]* kills of foutad with both.*' \
        "$sinks_out" | tail -n 1)" || true
    [[ -n "$sinks_line" ]] ||
        fail "test_crash_sinks gave no count (status $sinks_status): $(tail -n 8 "$sinks_out")"
    sinks_acked="$(echo "$sinks_line" | awk '{print $1}')"
    sinks_lost="$(echo "$sinks_line" | awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "lost;") print $i}')"
    sinks_verdict="passed"
    [[ "$sinks_status" -eq 0 ]] ||
        sinks_verdict="FAILED: $(grep -m 1 -A 2 'Assertion Failed' "$sinks_out" | tail -n 1)"
    sinks_failed=$((sinks_status != 0))
}

# ---- faults ----

# run_faults SUITE WHAT COMMAND...: each test of the suite whose name is not a plain (fault-free)
# case becomes a row; the command gets --tap.
run_faults() {
    local suite="$1" what="$2" tap="$data/faults-$1.tap"
    shift 2
    "$@" --tap="$tap" >"$data/faults-$suite.out" 2>&1 || true
    [[ -s "$tap" ]] || fail "$suite gave no TAP report: $(tail -n 5 "$data/faults-$suite.out")"
    local verdict name outcome
    while read -r verdict name; do
        case "$verdict" in
        ok) outcome=handled ;;
        skip) outcome="skipped (not permitted here)" ;;
        *) outcome=FAILED fault_failed=$((fault_failed + 1)) ;;
        esac
        fault_cases=$((fault_cases + 1))
        fault_rows+="| $what | ${name//_/ } | $outcome |"$'\n'
    done < <(grep -v '# SKIP test was skipped' "$tap" | # filtered out, not run
        sed -n -e 's/^ok - [a-z_]*::\([a-z0-9_]*\).*# SKIP.*$/skip \1/p' -e t \
            -e 's/^ok - [a-z_]*::\([a-z0-9_]*\).*$/ok \1/p' -e t \
            -e 's/^not ok - [a-z_]*::\([a-z0-9_]*\).*$/not_ok \1/p' |
        grep -Ev 'after_a_plant_day|rebuild_while_appending|each_shift_counts')
}

faults_part() {
    test_build_configure
    ninja -C "$test_build" test_alloc_faults test_writer test_api_faults test_pg_sink \
        test_redis_sink >/dev/null
    fault_rows="" fault_cases=0 fault_failed=0
    run_faults alloc "allocation failures" "$test_build/tests/test_alloc_faults" --verbose
    alloc_runs="$(grep -o '[0-9]* runs, [0-9]* of them refused something' \
        "$data/faults-alloc.out" | head -n 1)" || true
    run_faults writer "LMDB and the disk" "$test_build/tests/test_writer" \
        --filter '*/*@(full|maximum_size)*'
    run_faults api "under foutad" "$test_build/tests/test_api_faults"
    run_faults pg "PostgreSQL" "$root/tests/support/servers.sh" run \
        "$test_build/tests/test_pg_sink" --jobs 1
    run_faults redis "Redis" "$root/tests/support/servers.sh" run \
        "$test_build/tests/test_redis_sink" --jobs 1
}

# ---- soak ----

rss_kib() { awk '/^RssAnon:/ {print $2}' "/proc/$foutad_pid/status"; }
rss_file_kib() { awk '/^RssFile:/ {print $2}' "/proc/$foutad_pid/status"; }
fds() { find "/proc/$foutad_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# CPU time of a process so far, in clock ticks (user + system).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# Users named after each role in a tenant: fouta-sim signs in as its events' roles.
add_users() {
    local tenant="$1" args=() role
    for role in $ROLES; do
        args+=(--add-user "$tenant:$role:$role")
    done
    FOUTA_USER_PASSWORD="$BENCH_PASSWORD" "$foutad" --data-dir "$data/soak/data" "${args[@]}" \
        >/dev/null 2>&1 || fail "foutad --add-user failed for $tenant"
}

# fouta-sim posting the simulator's plant to tenant TENANT for SECONDS (rate R, 0: unpaced),
# a line every WINDOW seconds into OUT; in the background, its pid in sim_pid.
sim_start() {
    local tenant="$1" rate="$2" seconds="$3" window_s="$4" out="$5"
    # Enough days for the run at the rate, with a margin: the stream must not run out first.
    local days=$(((rate > 0 ? rate : 20000) * seconds * 5 / 4 / SIM_EVENTS_PER_DAY + 2))
    [[ "$days" -le "$SIM_DAYS_MAX" ]] || days="$SIM_DAYS_MAX"
    FOUTA_TENANT="$tenant" FOUTA_PASSWORD="$BENCH_PASSWORD" "$sim" --seed 1 \
        --looms "$soak_looms" --days "$days" --post "http://127.0.0.1:$port" \
        --connections "$soak_connections" --batch "$soak_batch" --rate "$rate" \
        --seconds "$seconds" --report-seconds "$window_s" >"$out" 2>"$out.err" &
    sim_pid=$!
}

sim_stop() {
    if [[ -n "$sim_pid" ]]; then
        kill -TERM "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
        sim_pid=""
    fi
}

soak_start_foutad() {
    mkdir -p "$data/soak"
    add_users probe
    add_users soak
    "$foutad" --data-dir "$data/soak/data" --listen 127.0.0.1:0 --port-file "$data/soak/port" \
        --rate-per-min 0 2>"$data/soak/log" &
    foutad_pid=$!
    for _ in $(seq 1 300); do
        [[ -s "$data/soak/port" ]] && break
        sleep 0.1
    done
    port="$(cat "$data/soak/port")" || fail "foutad did not start: $(tail -n 3 "$data/soak/log")"
}

# Capacity for this mix: the same simulator unpaced, on a tenant of its own, with the
# subscribers following it (the fan-out costs the server too): the mean rate of its windows
# after the first (connections opening, the map growing).
soak_probe() {
    sim_start probe 0 "$PROBE_SECONDS" "$PROBE_WINDOW_SECONDS" "$data/soak/probe.out"
    "$load" observe --port "$port" --subscribers "$subscribers" --seconds "$PROBE_SECONDS" \
        --login probe:store_raw >"$data/soak/probe-observe.out" || true
    wait "$sim_pid" || true
    sim_pid=""
    grep -q '^total ' "$data/soak/probe.out" ||
        fail "the capacity probe gave no total: $(tail -n 3 "$data/soak/probe.out.err")"
    capacity="$(grep '^window=' "$data/soak/probe.out" | awk -v w="$PROBE_WINDOW_SECONDS" '
        NR > 1 && $2 == "at_s=" w * NR ".0" { split($3, e, "="); sum += e[2]; n++ }
        END { printf "%d", (n > 0 ? sum / n / w : 0) }')"
    [[ "$capacity" -gt 0 ]] || fail "the capacity probe posted nothing: $(cat "$data/soak/probe.out")"
    rate="${SOAK_RATE:-$((capacity / 2))}"
    rate_source="half"
    [[ -z "${SOAK_RATE:-}" ]] || rate_source="SOAK_RATE"
}

soak_part() {
    [[ -x "$load" && -x "$foutad" && -x "$sim" ]] ||
        fail "bench_http_load, foutad or fouta-sim missing in $build"
    soak_start_foutad
    soak_probe
    windows=$(((soak_seconds + window - 1) / window))
    baseline=$((windows / 4 > 2 ? windows / 4 : 2))
    [[ "$baseline" -le "$windows" ]] || baseline="$windows"
    soak_rows=""
    first_rss=0 last_rss=0 first_fds=0 last_fds=0 first_p99=0 last_p99=0 worst_p99=0
    soak_gaps=0 soak_missing=0 soak_delivered=0 soak_events=0 worst_behind=0
    local ticks_per_s foutad_ticks sim_ticks started
    ticks_per_s="$(getconf CLK_TCK)"
    # fouta-sim runs the whole soak, and a window more: the last observer window must not see
    # it stop. Each observer window reads the events of its own seconds.
    sim_start soak "$rate" $((soak_seconds + 2 * window)) "$window" "$data/soak/sim.out"
    # Its windows count from "start" (its sign-ins done): the observer's from the same moment.
    for _ in $(seq 1 600); do
        grep -q '^start$' "$data/soak/sim.out" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^start$' "$data/soak/sim.out" || fail "fouta-sim did not start: $(tail -n 3 "$data/soak/sim.out.err")"
    foutad_ticks="$(cpu_ticks "$foutad_pid")" sim_ticks="$(cpu_ticks "$sim_pid")"
    started="$(date +%s.%N)"
    for ((w = 1; w <= windows; w++)); do
        line="$("$load" observe --port "$port" --subscribers "$subscribers" --seconds "$window" \
            --login soak:store_raw | tail -n 1)" || true # non-zero when something was missing
        [[ "$line" == mode=observe* ]] || fail "window $w gave no result"
        local now elapsed f s sim_line
        now="$(date +%s.%N)" f="$(cpu_ticks "$foutad_pid")" s="$(cpu_ticks "$sim_pid")"
        elapsed="$(awk -v a="$started" -v b="$now" 'BEGIN {print b - a}')"
        local foutad_cpu sim_cpu
        foutad_cpu="$(awk -v t=$((f - foutad_ticks)) -v e="$elapsed" -v h="$ticks_per_s" \
            'BEGIN {printf "%.0f", t * 100 / h / e}')"
        sim_cpu="$(awk -v t=$((s - sim_ticks)) -v e="$elapsed" -v h="$ticks_per_s" \
            'BEGIN {printf "%.0f", t * 100 / h / e}')"
        foutad_ticks="$f" sim_ticks="$s" started="$now"
        sim_line="$(grep '^window=' "$data/soak/sim.out" | tail -n 1)" || true
        rss="$(rss_kib)" rss_file="$(rss_file_kib)" fd="$(fds)"
        p99="$(field "$line" p99_ms)"
        soak_events=$((soak_events + $(field "$line" events)))
        soak_delivered=$((soak_delivered + $(field "$line" delivered)))
        soak_gaps=$((soak_gaps + $(field "$line" gaps)))
        soak_missing=$((soak_missing + $(field "$line" missing)))
        if [[ "$w" -eq 1 ]]; then
            first_fds="$fd" first_p99="$p99"
        fi
        if [[ "$w" -eq "$baseline" ]]; then
            first_rss="$rss"
        fi
        last_rss="$rss" last_fds="$fd" last_p99="$p99"
        worst_p99="$(awk -v a="$worst_p99" -v b="$p99" 'BEGIN {print (b > a ? b : a)}')"
        local behind
        behind="$(field "$sim_line" behind_ms_max)"
        worst_behind="$(awk -v a="$worst_behind" -v b="$behind" 'BEGIN {print (b > a ? b : a)}')"
        soak_rows+="| $((w * window)) | $(field "$line" per_s) | $p99 | $(field "$sim_line" \
            post_p99_ms) | $behind | $((rss / 1024)) | $((rss_file / 1024)) | $fd |"
        soak_rows+=" $foutad_cpu | $sim_cpu |"$'\n'
    done
    sim_stop
    soak_total="$(grep '^total ' "$data/soak/sim.out" | tail -n 1)" || true
    soak_summary="$(sed -n 's/^fouta-sim: //p' "$data/soak/sim.out.err" | tail -n 1)"
    soak_refused="$(field "$soak_total" refused)"
    cleanup
    rss_growth="$(awk -v a="$first_rss" -v b="$last_rss" \
        'BEGIN {printf "%.1f", (b - a) * 100 / a}')"
}

for name in fuzz crash faults soak; do
    if part "$name"; then
        "${name}_part"
    fi
done

# ---- the report ----

report_fuzz() {
    echo "## Fuzzing (tests/fuzz/run, libFuzzer + ASan + UBSan)"
    echo
    echo "| target | result |"
    echo "|---|---|"
    grep '^fuzz_' "$fuzz_out" | sed 's/^\(fuzz_[a-z_]*\): \(.*\)$/| \1 | \2 |/'
    echo
    echo "$fuzz_runs executions in all, $fuzz_crashes target(s) failing."
    echo
}

report_crash() {
    echo "## Crash rounds (tests/clients/test_crash_http, SIGKILL under HTTP load)"
    echo
    echo "$crash_rounds rounds of four posting clients and a SIGKILL: $crash_line;" \
        "the chain and inline state verified afterwards (fouta-replay verify-state): $crash_verdict."
    echo
    echo "With both projections on (tests/clients/test_crash_sinks, a real PostgreSQL and Redis)," \
        "$crash_rounds rounds: $sinks_line; after the last restart both caught up and equal" \
        "to the ledger, each event applied and published once: $sinks_verdict."
    echo
}

report_faults() {
    echo "## Faults injected (the suite's tests, ASan + UBSan)"
    echo
    echo "Each case injects its fault into a running ledger, foutad or projector, then checks the"
    echo "answer (a status and a code, never a crash or a hang) and that every acknowledged event"
    echo "is there exactly once afterwards (the chain verified; projections equal to the ledger)."
    echo
    echo "| fault | case | outcome |"
    echo "|---|---|---|"
    printf '%s' "$fault_rows"
    echo
    echo "$fault_cases cases, $fault_failed failing. Allocation failures: ${alloc_runs:-no count}" \
        "(each allocation of a plant day's appends failed in turn; the hot path itself allocates" \
        "nothing)."
    echo
}

report_soak() {
    echo "## Soak (Release foutad, the simulator's mix paced, $subscribers WebSocket subscribers)"
    echo
    echo "Load: fouta-sim, a plant of $soak_looms looms (every role's events, each as its role's" \
        "user, in the order that matters), $soak_connections connections, batches of at most" \
        "$soak_batch. Capacity of this mix unpaced, with the subscribers: $capacity events/s;" \
        "paced at $rate events/s ($rate_source), $soak_seconds s in windows of $window s."
    echo
    echo "Each window: the subscribers' events/s and delivery p99 (from each event's" \
        "recorded_at_us), fouta-sim's request p99 and how late it took an event after its slot" \
        "at most, foutad's heap and map, its descriptors, and the CPU of foutad and fouta-sim" \
        "(percent of one core)."
    echo
    echo "| at s | events/s | delivery p99 ms | post p99 ms | behind max ms | heap (anon RSS) MiB | LMDB map (file RSS) MiB | fds | foutad CPU % | fouta-sim CPU % |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    printf '%s' "$soak_rows"
    echo
    echo "$soak_events events seen by the subscribers, $soak_delivered deliveries, $soak_gaps" \
        "gaps, $soak_missing missing; fouta-sim: $soak_summary. Anonymous RSS" \
        "$((first_rss / 1024)) MiB after window $baseline (the baseline, after the warm-up)," \
        "$((last_rss / 1024)) MiB at the end ($rss_growth %); descriptors $first_fds then" \
        "$last_fds; delivery p99 $first_p99 ms then $last_p99 ms (worst window $worst_p99 ms);" \
        "fouta-sim at most $worst_behind ms behind its pace."
}

parts_text="${parts# }"
parts_text="${parts_text% }"
{
    echo "# Hardening report"
    echo
    echo "Regenerated by \`bench/run hardening\` (HARDENING_PARTS=\"$parts_text\"" \
        "FUZZ_SECONDS=$fuzz_seconds, CRASH_ROUNDS=$crash_rounds, SOAK_SECONDS=$soak_seconds)." \
        "Machine: $(nproc) cores."
    echo
    for name in fuzz crash faults soak; do
        if part "$name"; then
            "report_$name"
        fi
    done
} >"$report"
cat "$report"
echo
# The keys of the parts that ran.
result=(RESULT)
if part crash; then
    result+=("acked_lost=$acked_lost" "acked_checked=$acked_checked" "crash_rounds=$crash_rounds"
        "sinks_acked=$sinks_acked" "sinks_lost=$sinks_lost" "sinks_failed=$sinks_failed")
fi
if part fuzz; then
    result+=("fuzz_crashes=$fuzz_crashes" "fuzz_runs=$fuzz_runs")
fi
if part faults; then
    result+=("fault_cases=$fault_cases" "fault_failed=$fault_failed")
fi
if part soak; then
    result+=("soak_seconds=$soak_seconds" "soak_rate=$rate" "soak_events=$soak_events"
        "soak_refused=$soak_refused" "soak_rss_growth_pct=$rss_growth"
        "soak_fd_growth=$((last_fds - first_fds))" "soak_gaps=$soak_gaps"
        "soak_missing=$soak_missing" "soak_p99_ms_last=$last_p99" "soak_p99_ms_worst=$worst_p99")
fi
echo "${result[*]}"
