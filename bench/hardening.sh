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
#   - Faults: the suites that inject them (the suite's sanitizer build), each test's outcome:
#     allocation failures, LMDB's map and the disk full, the append queue full, the writer
#     stalled by another process's lock, a full and a read-only filesystem under foutad, and
#     PostgreSQL and Redis stopped, paused, locked, dropped, refusing and killed mid-batch (the
#     real servers, tests/support/servers.sh).
#   - Soak: a Release foutad, signed-in load at half its measured capacity (open loop, with
#     WebSocket subscribers receiving every event) for SOAK_SECONDS, in windows of
#     SOAK_WINDOW_SECONDS; after each window the server's memory and open descriptors. Memory is
#     read as anonymous RSS (the heap: what a leak grows) apart from file-backed RSS (LMDB's
#     map: the log's pages the kernel keeps mapped, which grows with the log and is given back
#     under pressure). The growth is the last window's anonymous RSS against the baseline: the
#     window a quarter into the run, the second at the earliest (the warm-up before it: allocator
#     arenas and buffers reaching their working size).
#
# Environment: FUZZ_SECONDS (default 20), CRASH_ROUNDS (default 12), SOAK_SECONDS (default 120;
# an hour is 3600), SOAK_WINDOW_SECONDS (default 10), SOAK_SUBSCRIBERS (default 20).
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
report="$root/bench/hardening-report.md"
load="$build/bench/bench_http_load"
foutad="$build/api/foutad"
LOGIN=soak:soak-store
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

foutad_pid=""
cleanup() {
    if [[ -n "$foutad_pid" ]]; then
        kill "$foutad_pid" 2>/dev/null || true
        wait "$foutad_pid" 2>/dev/null || true
        foutad_pid=""
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# ---- fuzzing ----

fuzz_out="$data/fuzz.out"
"$root/tests/fuzz/run" "$fuzz_seconds" >"$fuzz_out" 2>&1 || true
fuzz_result="$(grep '^RESULT ' "$fuzz_out" | tail -n 1)" || fail "tests/fuzz/run: $(tail -n 5 "$fuzz_out")"
fuzz_runs="$(field "$fuzz_result" fuzz_runs)"
fuzz_crashes="$(field "$fuzz_result" fuzz_crashes)"

# ---- crash rounds ----

if [[ ! -f "$test_build/build.ninja" ]]; then
    cmake -S "$root" -B "$test_build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFL_WERROR=ON \
        -DFL_SANITIZE=address,undefined >/dev/null
fi
ninja -C "$test_build" test_crash_http fouta-replay foutad >/dev/null
crash_out="$data/crash.out"
crash_status=0
FL_CRASH_ROUNDS="$crash_rounds" "$test_build/tests/test_crash_http" --verbose >"$crash_out" 2>&1 ||
    crash_status=$?
crash_line="$(grep -o '[0-9]* events acknowledged over [0-9]* kills of foutad, [0-9]* lost' \
    "$crash_out" | tail -n 1)" || true
if [[ -z "$crash_line" ]]; then
    fail "test_crash_http gave no count (status $crash_status): $(tail -n 8 "$crash_out")"
fi
acked_checked="$(echo "$crash_line" | awk '{print $1}')"
acked_lost="$(echo "$crash_line" | awk '{print $(NF-1)}')"
crash_verdict="passed"
[[ "$crash_status" -eq 0 ]] || crash_verdict="FAILED (see the test's output)"

# ---- faults ----

ninja -C "$test_build" test_alloc_faults test_writer test_api_faults test_pg_sink \
    test_redis_sink >/dev/null
fault_rows="" fault_cases=0 fault_failed=0
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
run_faults alloc "allocation failures" "$test_build/tests/test_alloc_faults" --verbose
alloc_runs="$(grep -o '[0-9]* runs, [0-9]* of them refused something' \
    "$data/faults-alloc.out" | head -n 1)" || true
run_faults writer "LMDB and the disk" "$test_build/tests/test_writer" \
    --filter '*/*@(full|maximum_size)*'
run_faults api "under foutad" "$test_build/tests/test_api_faults"
run_faults pg "PostgreSQL" "$root/tests/support/servers.sh" run "$test_build/tests/test_pg_sink" \
    --jobs 1
run_faults redis "Redis" "$root/tests/support/servers.sh" run \
    "$test_build/tests/test_redis_sink" --jobs 1

# ---- soak ----

[[ -x "$load" && -x "$foutad" ]] || fail "bench_http_load or foutad missing in $build"
mkdir -p "$data/soak"
FOUTA_USER_PASSWORD="$BENCH_PASSWORD" "$foutad" --data-dir "$data/soak/data" \
    --add-user "$LOGIN:store_raw" >/dev/null 2>&1 || fail "foutad --add-user failed"
"$foutad" --data-dir "$data/soak/data" --listen 127.0.0.1:0 --port-file "$data/soak/port" \
    --rate-per-min 0 2>"$data/soak/log" &
foutad_pid=$!
for _ in $(seq 1 300); do
    [[ -s "$data/soak/port" ]] && break
    sleep 0.1
done
port="$(cat "$data/soak/port")" || fail "foutad did not start: $(tail -n 3 "$data/soak/log")"

rss_kib() { awk '/^RssAnon:/ {print $2}' "/proc/$foutad_pid/status"; }
rss_file_kib() { awk '/^RssFile:/ {print $2}' "/proc/$foutad_pid/status"; }
fds() { find "/proc/$foutad_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# Capacity with the subscribers attached: the POST rate alone, then what the same open-loop
# run achieves when asked for all of it (the fan-out costs the server too).
probe="$("$load" http --port "$port" --connections 16 --seconds 3 --expect 201 --login "$LOGIN" |
    tail -n 1)" || true
post_capacity="$(field "$probe" per_s)"
[[ "$post_capacity" -gt 0 ]] || fail "the capacity probe posted nothing: $probe"
probe="$("$load" ws --port "$port" --subscribers "$subscribers" --rate "$post_capacity" \
    --posters 8 --seconds 3 --login "$LOGIN" | tail -n 1)" || true
capacity="$(field "$probe" posted_per_s)"
rate=$((capacity / 2))
[[ "$rate" -gt 0 ]] || fail "the capacity probe with subscribers posted nothing: $probe"

windows=$(((soak_seconds + window - 1) / window))
baseline=$((windows / 4 > 2 ? windows / 4 : 2))
[[ "$baseline" -le "$windows" ]] || baseline="$windows"
soak_rows=""
first_rss=0 last_rss=0 first_fds=0 last_fds=0 first_p99=0 last_p99=0 worst_p99=0
soak_gaps=0 soak_errors=0 soak_delivered=0 soak_posted=0
for ((w = 1; w <= windows; w++)); do
    line="$("$load" ws --port "$port" --subscribers "$subscribers" --rate "$rate" --posters 8 \
        --seconds "$window" --login "$LOGIN" | tail -n 1)" || true # non-zero when late
    [[ "$line" == mode=ws* ]] || fail "window $w gave no result"
    rss="$(rss_kib)" rss_file="$(rss_file_kib)" fd="$(fds)"
    p99="$(field "$line" p99_ms)" posted="$(field "$line" posted)"
    soak_posted=$((soak_posted + posted))
    soak_delivered=$((soak_delivered + $(field "$line" delivered)))
    soak_gaps=$((soak_gaps + $(field "$line" gaps)))
    soak_errors=$((soak_errors + $(field "$line" post_errors)))
    if [[ "$w" -eq 1 ]]; then
        first_fds="$fd" first_p99="$p99"
    fi
    if [[ "$w" -eq "$baseline" ]]; then
        first_rss="$rss"
    fi
    last_rss="$rss" last_fds="$fd" last_p99="$p99"
    worst_p99="$(awk -v a="$worst_p99" -v b="$p99" 'BEGIN {print (b > a ? b : a)}')"
    soak_rows+="| $((w * window)) | $(field "$line" posted_per_s) | $p99 | $(field "$line" \
        ack_p99_ms) | $((rss / 1024)) | $((rss_file / 1024)) | $fd |"$'\n'
done
cleanup
rss_growth="$(awk -v a="$first_rss" -v b="$last_rss" 'BEGIN {printf "%.1f", (b - a) * 100 / a}')"

# ---- the report ----

{
    echo "# Hardening report"
    echo
    echo "Regenerated by \`bench/run hardening\` (FUZZ_SECONDS=$fuzz_seconds," \
        "CRASH_ROUNDS=$crash_rounds, SOAK_SECONDS=$soak_seconds). Machine: $(nproc) cores."
    echo
    echo "## Fuzzing (tests/fuzz/run, libFuzzer + ASan + UBSan)"
    echo
    echo "| target | result |"
    echo "|---|---|"
    grep '^fuzz_' "$fuzz_out" | sed 's/^\(fuzz_[a-z_]*\): \(.*\)$/| \1 | \2 |/'
    echo
    echo "$fuzz_runs executions in all, $fuzz_crashes target(s) failing."
    echo
    echo "## Crash rounds (tests/clients/test_crash_http, SIGKILL under HTTP load)"
    echo
    echo "$crash_rounds rounds of four posting clients and a SIGKILL: $crash_line;" \
        "the chain and inline state verified afterwards (fouta-replay verify-state): $crash_verdict."
    echo
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
    echo "## Soak (Release foutad, $subscribers WebSocket subscribers, open loop)"
    echo
    echo "Capacity: $post_capacity events/s posted on 16 connections, $capacity events/s with" \
        "$subscribers subscribers receiving each; load: $rate events/s (half), $soak_seconds s" \
        "in windows of $window s."
    echo
    echo "| at s | posted/s | delivery p99 ms | ack p99 ms | heap (anon RSS) MiB | LMDB map (file RSS) MiB | fds |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s' "$soak_rows"
    echo
    echo "$soak_posted events posted, $soak_delivered deliveries, $soak_gaps gaps," \
        "$soak_errors post errors. Anonymous RSS $((first_rss / 1024)) MiB after window $baseline" \
        "(the baseline, after the warm-up)," \
        "$((last_rss / 1024)) MiB at the end ($rss_growth %); descriptors $first_fds then" \
        "$last_fds; delivery p99 $first_p99 ms then $last_p99 ms (worst window $worst_p99 ms)."
} >"$report"
cat "$report"
echo
echo "RESULT acked_lost=$acked_lost acked_checked=$acked_checked crash_rounds=$crash_rounds" \
    "fuzz_crashes=$fuzz_crashes fuzz_runs=$fuzz_runs fault_cases=$fault_cases" \
    "fault_failed=$fault_failed soak_seconds=$soak_seconds" \
    "soak_rss_growth_pct=$rss_growth soak_fd_growth=$((last_fds - first_fds))" \
    "soak_gaps=$soak_gaps soak_p99_ms_last=$last_p99 soak_p99_ms_worst=$worst_p99"
