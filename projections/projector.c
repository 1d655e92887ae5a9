/*
 * projector.c: the projector framework - one thread per projector that follows the log into
 * its sink. It sleeps in eng_wait (woken by the commit, bounded so that a stop is prompt), takes
 * the events after its checkpoint with the rows they changed, and has the sink apply them with
 * the checkpoint in one transaction. A failing sink costs only this thread: it backs off
 * (doubling up to retry_ms_max) and reconnects. A batch the sink refuses is retried one event
 * at a time, so that the event it really refuses is found and becomes a dead letter.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "projections/projections_int.h"

struct prj_projector {
    eng_ledger_t *ledger;
    prj_sink_t *sink;
    char name[PRJ_NAME_LEN_MAX + 1];
    uint32_t batch_events_max;
    uint32_t retry_ms_max;
    prj_poison_t on_poison;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* stop, resume, a swap asked or done, the checkpoint moved */
    bool stop;
    /* Under lock: what prj_status shows. */
    prj_state_t state;
    bool paused;
    bool rebuilding;
    uint64_t checkpoint;
    uint64_t batches, events, retries, dead_letters, rebuilds;
    int last_error;
    char last_error_text[PRJ_ERROR_LEN_MAX];
    float *visible_ms; /* PRJ_LAG_SAMPLES, a ring */
    uint32_t visible_next, visible_count;
    /* Under lock: a rebuild's handshake with this thread. */
    bool swap_asked, swap_done;
    int swap_rc;
    /* This thread's own. */
    bool have_checkpoint;
    uint64_t narrow_until; /* after a refused batch: one event at a time up to here */
    prj_batch_t batch;
};

const char *prj_state_name(prj_state_t state)
{
    static const char *const names[] = {"starting", "running",    "catching_up",
                                        "faulted",  "rebuilding", "stopped"};
    return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

const char *prj_sink_kind(const prj_sink_t *sink)
{
    return sink->ops->kind;
}

void prj_sink_close(prj_sink_t *sink)
{
    if (sink != NULL)
        sink->ops->destroy(sink);
}

void prj_sink_reject_seq_for_tests(prj_sink_t *sink, uint64_t seq)
{
    sink->reject_seq = seq;
}

uint32_t prj__sink_timeout_ms(const prj_sink_t *sink)
{
    return sink->io_timeout_ms != 0 ? sink->io_timeout_ms : PRJ_IO_TIMEOUT_S * 1000u;
}

uint64_t prj__sink_deadline(const prj_sink_t *sink, uint32_t timeout_ms)
{
    uint32_t ms = timeout_ms != 0 ? timeout_ms : prj__sink_timeout_ms(sink);
    return fl_mono_ns() + (uint64_t)ms * 1000000u;
}

int prj__sink_wait(const prj_sink_t *sink, int fd, short events, uint64_t deadline_ns,
                   short *revents)
{
    assert(fd >= 0);
    for (;;) {
        uint64_t now = fl_mono_ns();
        if (now >= deadline_ns)
            return FL_ETIMEDOUT;
        uint64_t left_ms = (deadline_ns - now + 999999u) / 1000000u;
        struct pollfd p = {.fd = fd, .events = events};
        int ready = poll(&p, 1, left_ms < PRJ_WAIT_MS ? (int)left_ms : PRJ_WAIT_MS);
        if (ready > 0) {
            if (revents != NULL)
                *revents = p.revents;
            return 0;
        }
        if (ready < 0 && errno != EINTR)
            return fl_err_from_errno(errno);
        /* A slice went by with nothing: the stop is asked here, not on the path of an answer. */
        if (sink->stopping != NULL && sink->stopping(sink->stopping_data))
            return FL_ECANCELED;
    }
}

/* The sink's stopping: the projector's stop, read under its lock. */
static bool stopping(void *data)
{
    prj_projector_t *p = data;
    pthread_mutex_lock(&p->lock);
    bool stop = p->stop;
    pthread_mutex_unlock(&p->lock);
    return stop;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits on the projector's condition for at most ms; the lock is held. */
static void cond_wait_ms(prj_projector_t *p, uint32_t ms)
{
    struct timespec until = fl_realtime_after_ms(ms);
    pthread_cond_timedwait(&p->cond, &p->lock, &until);
}

static void fail(prj_projector_t *p, int rc)
{
    pthread_mutex_lock(&p->lock);
    p->last_error = rc;
    snprintf(p->last_error_text, sizeof(p->last_error_text), "%s",
             p->sink->error[0] != '\0' ? p->sink->error : fl_strerror(rc));
    p->state = PRJ_STATE_FAULTED;
    p->retries++;
    pthread_mutex_unlock(&p->lock);
}

/* The state once a batch is applied (or nothing was waiting); the lock is held. */
static void settle(prj_projector_t *p, uint64_t head)
{
    if (p->paused)
        p->state = PRJ_STATE_FAULTED;
    else if (p->rebuilding)
        p->state = PRJ_STATE_REBUILDING;
    else if (head > p->checkpoint + p->batch_events_max)
        p->state = PRJ_STATE_CATCHING_UP;
    else
        p->state = PRJ_STATE_RUNNING;
}

static void applied(prj_projector_t *p, const prj_batch_t *batch, uint64_t head)
{
    int64_t now = now_us();
    pthread_mutex_lock(&p->lock);
    p->checkpoint = batch->last_seq;
    p->batches++;
    p->events += batch->events_count;
    for (uint32_t i = 0; i < batch->events_count; i++) {
        int64_t age = now - batch->events[i].recorded_at_us;
        p->visible_ms[p->visible_next] = age > 0 ? (float)age / 1000.0f : 0.0f;
        p->visible_next = (p->visible_next + 1) % PRJ_LAG_SAMPLES;
        if (p->visible_count < PRJ_LAG_SAMPLES)
            p->visible_count++;
    }
    p->last_error = 0;
    p->last_error_text[0] = '\0';
    settle(p, head);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* The event the sink refused on its own: a dead letter, then skip it or pause. */
static int poison(prj_projector_t *p, const prj_batch_t *batch)
{
    assert(batch->events_count == 1);
    const prj_event_t *event = &batch->events[0];
    bool skip = p->on_poison == PRJ_POISON_SKIP;
    char error[PRJ_ERROR_LEN_MAX];
    snprintf(error, sizeof(error), "%s", p->sink->error);
    int rc = p->sink->ops->dead_letter(p->sink, p->name, event->seq, event->type, error, skip);
    if (rc != 0)
        return rc;
    fprintf(stderr, "projector %s: event %llu is a dead letter (%s)%s\n", p->name,
            (unsigned long long)event->seq, error, skip ? "" : "; paused");
    pthread_mutex_lock(&p->lock);
    p->dead_letters++;
    if (skip)
        p->checkpoint = event->seq;
    else
        p->paused = true;
    p->last_error = FL_ESINK_REJECTED;
    snprintf(p->last_error_text, sizeof(p->last_error_text), "seq %llu: %.200s",
             (unsigned long long)event->seq, error);
    settle(p, event->seq);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

/* Fills the batch (checkpoint, last_seq] and has the sink apply it to target. */
static int apply_range(prj_projector_t *p, prj_target_t target, uint64_t checkpoint,
                       uint64_t last_seq)
{
    prj_batch_t *batch = &p->batch;
    prj__batch_reset(batch, checkpoint);
    int rc = prj__batch_events(batch, p->ledger, last_seq);
    if (rc == 0)
        rc = prj__batch_rows(batch, p->ledger);
    if (rc == 0)
        rc = p->sink->ops->apply(p->sink, target, p->name, batch);
    return rc;
}

/* Catches the shadow a rebuild filled up to this projector's checkpoint, then swaps it in. */
static int swap(prj_projector_t *p)
{
    uint64_t shadow = 0;
    int rc = p->sink->ops->checkpoint_get(p->sink, PRJ_TARGET_SHADOW, p->name, &shadow);
    while (rc == 0 && shadow < p->checkpoint) {
        uint64_t last = shadow + p->batch_events_max;
        rc = apply_range(p, PRJ_TARGET_SHADOW, shadow, last < p->checkpoint ? last : p->checkpoint);
        shadow = p->batch.last_seq;
    }
    if (rc == 0)
        rc = p->sink->ops->shadow_swap(p->sink, p->name);
    if (rc == 0) {
        p->have_checkpoint = false; /* the shadow's, which may be ahead of ours */
        pthread_mutex_lock(&p->lock);
        p->rebuilds++;
        pthread_mutex_unlock(&p->lock);
    }
    return rc;
}

static void swap_answer(prj_projector_t *p, int rc)
{
    pthread_mutex_lock(&p->lock);
    p->swap_asked = false;
    p->swap_done = true;
    p->swap_rc = rc;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* One turn of the loop: connect, answer a swap, wait for the log, apply one batch. */
static int step(prj_projector_t *p)
{
    int rc = p->sink->ops->connect(p->sink);
    if (rc != 0)
        return rc;
    if (!p->have_checkpoint) {
        uint64_t checkpoint;
        if ((rc = p->sink->ops->checkpoint_get(p->sink, PRJ_TARGET_LIVE, p->name, &checkpoint)) !=
            0)
            return rc;
        pthread_mutex_lock(&p->lock);
        p->checkpoint = checkpoint;
        pthread_mutex_unlock(&p->lock);
        p->have_checkpoint = true;
    }
    pthread_mutex_lock(&p->lock);
    bool swap_asked = p->swap_asked, paused = p->paused;
    uint64_t checkpoint = p->checkpoint;
    if (paused && !swap_asked && !p->stop)
        cond_wait_ms(p, PRJ_WAIT_MS);
    pthread_mutex_unlock(&p->lock);
    if (swap_asked) {
        rc = swap(p);
        swap_answer(p, rc);
        return rc;
    }
    if (paused)
        return 0;
    uint64_t head = 0;
    rc = eng_wait(p->ledger, checkpoint, PRJ_WAIT_MS, &head);
    if (rc == FL_ETIMEDOUT || rc == FL_ECANCELED) {
        pthread_mutex_lock(&p->lock);
        settle(p, head);
        if (rc == FL_ECANCELED && !p->stop) /* the ledger closes: only a stop is left to do */
            cond_wait_ms(p, PRJ_WAIT_MS);
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    if (rc != 0)
        return rc;
    if (head <= checkpoint)
        return 0; /* woken (a stop, a swap), nothing new */
    uint32_t limit = checkpoint < p->narrow_until ? 1 : p->batch_events_max;
    uint64_t last = head < checkpoint + limit ? head : checkpoint + limit;
    rc = apply_range(p, PRJ_TARGET_LIVE, checkpoint, last);
    if (rc == 0) {
        applied(p, &p->batch, head);
        return 0;
    }
    if (rc != FL_ESINK_REJECTED)
        return rc;
    if (p->batch.events_count > 1) { /* find the event it refuses: one at a time */
        p->narrow_until = p->batch.last_seq;
        return 0;
    }
    return poison(p, &p->batch);
}

static void *projector_main(void *arg)
{
    prj_projector_t *p = arg;
    uint32_t backoff_ms = 0;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        int rc = step(p);
        if (rc == 0) {
            backoff_ms = 0;
            continue;
        }
        if (rc == FL_ECANCELED && stopping(p))
            break; /* the sink gave a wait up for the stop: no failure to count */
        fail(p, rc);
        if (rc == FL_ESINK_DOWN) {
            p->sink->ops->disconnect(p->sink);
            p->have_checkpoint = false;
        }
        backoff_ms = backoff_ms == 0 ? PRJ_RETRY_MS_MIN : backoff_ms * 2;
        if (backoff_ms > p->retry_ms_max)
            backoff_ms = p->retry_ms_max;
        pthread_mutex_lock(&p->lock);
        if (!p->stop && !p->swap_asked)
            cond_wait_ms(p, backoff_ms);
        pthread_mutex_unlock(&p->lock);
    }
    p->sink->ops->disconnect(p->sink);
    pthread_mutex_lock(&p->lock);
    p->state = PRJ_STATE_STOPPED;
    if (p->swap_asked) {
        p->swap_asked = false;
        p->swap_done = true;
        p->swap_rc = FL_ECANCELED;
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int prj_start(prj_projector_t **out, eng_ledger_t *ledger, prj_sink_t *sink,
              const prj_config_t *config)
{
    *out = NULL;
    if (ledger == NULL || sink == NULL || config == NULL ||
        !prj__name_valid(config->name, PRJ_NAME_LEN_MAX) ||
        config->batch_events_max > PRJ_BATCH_EVENTS_MAX)
        return FL_EINVAL;
    prj_projector_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return FL_ENOMEM;
    int rc = FL_ENOMEM;
    if ((p->visible_ms = calloc(PRJ_LAG_SAMPLES, sizeof(float))) == NULL)
        goto fail_samples;
    p->ledger = ledger;
    p->sink = sink;
    snprintf(p->name, sizeof(p->name), "%s", config->name);
    p->batch_events_max =
        config->batch_events_max != 0 ? config->batch_events_max : PRJ_BATCH_EVENTS_DEFAULT;
    p->retry_ms_max = config->retry_ms_max != 0 ? config->retry_ms_max : PRJ_RETRY_MS_MAX;
    p->on_poison = config->on_poison;
    p->state = PRJ_STATE_STARTING;
    sink->io_timeout_ms = config->io_timeout_ms;
    sink->stopping = stopping;
    sink->stopping_data = p;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    if ((rc = pthread_create(&p->thread, NULL, projector_main, p)) != 0) {
        rc = FL_EIO;
        goto fail_thread;
    }
    *out = p;
    return 0;
fail_thread:
    sink->stopping = NULL;
    sink->stopping_data = NULL;
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
fail_samples:
    free(p->visible_ms);
    free(p);
    return rc;
}

void prj_stop(prj_projector_t *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    eng_wake(p->ledger); /* out of eng_wait now, not at its timeout */
    pthread_join(p->thread, NULL);
    p->sink->stopping = NULL; /* the sink outlives this projector */
    p->sink->stopping_data = NULL;
    prj__batch_free(&p->batch);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->visible_ms);
    free(p);
}

void prj_resume(prj_projector_t *p)
{
    pthread_mutex_lock(&p->lock);
    p->paused = false;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

int prj_wait_checkpoint(prj_projector_t *p, uint64_t seq, uint32_t timeout_ms)
{
    int64_t until = now_us() + (int64_t)timeout_ms * 1000;
    pthread_mutex_lock(&p->lock);
    while (p->checkpoint < seq && now_us() < until)
        cond_wait_ms(p, 50);
    int rc = p->checkpoint >= seq ? 0 : FL_ETIMEDOUT;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static int float_order(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Percentiles of the ring (copied, so that the projector is not held while sorting). */
static void percentiles(prj_projector_t *p, prj_status_t *out)
{
    pthread_mutex_lock(&p->lock);
    uint32_t count = p->visible_count;
    float *copy = count > 0 ? malloc(count * sizeof(float)) : NULL;
    if (copy != NULL)
        memcpy(copy, p->visible_ms, count * sizeof(float));
    pthread_mutex_unlock(&p->lock);
    if (copy == NULL)
        return;
    qsort(copy, count, sizeof(float), float_order);
    out->visible_ms_p50 = copy[(count - 1) / 2];
    out->visible_ms_p99 = copy[(uint32_t)((count - 1) * 0.99)];
    free(copy);
}

void prj_status(prj_projector_t *p, prj_status_t *out)
{
    memset(out, 0, sizeof(*out));
    eng_head_t head;
    eng_head(p->ledger, &head);
    pthread_mutex_lock(&p->lock);
    snprintf(out->name, sizeof(out->name), "%s", p->name);
    out->sink = p->sink->ops->kind;
    out->state = p->state;
    out->paused = p->paused;
    out->checkpoint = p->checkpoint;
    out->batches = p->batches;
    out->events = p->events;
    out->retries = p->retries;
    out->dead_letters = p->dead_letters;
    out->rebuilds = p->rebuilds;
    out->last_error = p->last_error;
    snprintf(out->last_error_text, sizeof(out->last_error_text), "%s", p->last_error_text);
    pthread_mutex_unlock(&p->lock);
    out->head = head.seq;
    out->lag_events = head.seq > out->checkpoint ? head.seq - out->checkpoint : 0;
    if (out->lag_events > 0) { /* the age of the oldest event still waiting */
        eng_record_t record;
        eng_iter_t *iter = NULL;
        if (eng_read(p->ledger, out->checkpoint + 1, &record, &iter) == 0) {
            int64_t age = now_us() - record.recorded_at_us;
            out->lag_ms = age > 0 ? (uint64_t)age / 1000 : 0;
        }
        eng_iter_close(iter);
    }
    percentiles(p, out);
}

/* ---- the rebuild's handshake (rebuild.c fills the shadow, this thread swaps it in) */

void prj__rebuilding(prj_projector_t *p, bool on)
{
    pthread_mutex_lock(&p->lock);
    p->rebuilding = on;
    if (p->state == PRJ_STATE_RUNNING || p->state == PRJ_STATE_CATCHING_UP ||
        p->state == PRJ_STATE_REBUILDING)
        p->state = on ? PRJ_STATE_REBUILDING : PRJ_STATE_RUNNING;
    pthread_mutex_unlock(&p->lock);
}

int prj__swap(prj_projector_t *p, uint32_t timeout_ms)
{
    int64_t until = now_us() + (int64_t)timeout_ms * 1000;
    pthread_mutex_lock(&p->lock);
    p->swap_asked = true;
    p->swap_done = false;
    pthread_cond_broadcast(&p->cond);
    eng_wake(p->ledger);
    while (!p->swap_done && now_us() < until)
        cond_wait_ms(p, 50);
    int rc = p->swap_done ? p->swap_rc : FL_ETIMEDOUT;
    p->swap_asked = false;
    p->swap_done = false;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

prj_sink_t *prj__sink_of(prj_projector_t *p)
{
    return p->sink;
}

eng_ledger_t *prj__ledger_of(prj_projector_t *p)
{
    return p->ledger;
}

const char *prj__name_of(prj_projector_t *p)
{
    return p->name;
}
