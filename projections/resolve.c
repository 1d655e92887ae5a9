/*
 * resolve.c: a sink's host name looked up with a deadline. getaddrinfo(3) takes no deadline:
 * a resolver that answers nothing costs its own timeouts (five seconds per server and try by
 * default, for each address family), during which a projector could neither stop nor say what
 * it waits for. So the lookup runs on a detached thread of its own while the sink waits for it
 * in slices, as prj__sink_wait does for a socket; a lookup given up finishes alone and frees
 * what it shares with the sink (two references, the last one out frees).
 */
#define _POSIX_C_SOURCE 200809L
#include "projections/projections_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/base.h"

#define LOOKUP_PORT_LEN 32 /* a port number or a service's name */

_Static_assert(PRJ_ADDR_LEN_MAX >= INET6_ADDRSTRLEN, "an address's text fits");

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t done_cond; /* CLOCK_MONOTONIC */
    int refs;                 /* the sink's and the thread's */
    bool done;
    int gai_rc; /* getaddrinfo's, or getnameinfo's */
    char host[PRJ_HOST_LEN_MAX + 1], port[LOOKUP_PORT_LEN];
    char addrs[PRJ_RESOLVE_ADDRS_MAX][PRJ_ADDR_LEN_MAX];
    uint32_t count;
} lookup_t;

static void lookup_release(lookup_t *lookup)
{
    pthread_mutex_lock(&lookup->lock);
    bool last = --lookup->refs == 0;
    pthread_mutex_unlock(&lookup->lock);
    if (!last)
        return;
    pthread_cond_destroy(&lookup->done_cond);
    pthread_mutex_destroy(&lookup->lock);
    free(lookup);
}

static void *lookup_main(void *arg)
{
    lookup_t *lookup = arg;
    /* No AI_ADDRCONFIG: on a host whose only IPv4 address is the loopback it hides IPv4
     * answers, 127.0.0.1 included; glibc's order already puts unusable families last. */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    char addrs[PRJ_RESOLVE_ADDRS_MAX][PRJ_ADDR_LEN_MAX];
    uint32_t count = 0;
    int rc = getaddrinfo(lookup->host, lookup->port, &hints, &found);
    for (const struct addrinfo *a = found; rc == 0 && a != NULL && count < PRJ_RESOLVE_ADDRS_MAX;
         a = a->ai_next)
        if ((rc = getnameinfo(a->ai_addr, a->ai_addrlen, addrs[count], sizeof(addrs[count]), NULL,
                              0, NI_NUMERICHOST)) == 0)
            count++;
    if (found != NULL)
        freeaddrinfo(found);
    pthread_mutex_lock(&lookup->lock);
    lookup->gai_rc = rc;
    memcpy(lookup->addrs, addrs, sizeof(addrs));
    lookup->count = count;
    lookup->done = true;
    pthread_cond_signal(&lookup->done_cond);
    pthread_mutex_unlock(&lookup->lock);
    lookup_release(lookup);
    return NULL;
}

bool prj__host_is_numeric(const char *host)
{
    unsigned char bytes[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, bytes) == 1 || inet_pton(AF_INET6, host, bytes) == 1;
}

/* Starts the lookup's thread, detached; the lookup then holds two references. */
static int lookup_start(lookup_t *lookup)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return FL_ENOMEM;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    lookup->refs = 2;
    int rc = pthread_create(&thread, &attr, lookup_main, lookup) == 0 ? 0 : FL_ENOMEM;
    pthread_attr_destroy(&attr);
    if (rc != 0)
        lookup->refs = 1;
    return rc;
}

int prj__sink_resolve(const prj_sink_t *sink, const char *host, const char *port,
                      uint64_t deadline_ns, prj_addrs_t *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (strlen(host) > PRJ_HOST_LEN_MAX || strlen(port) >= LOOKUP_PORT_LEN) {
        snprintf(why, why_size, "host name too long: %.64s...", host);
        return FL_EINVAL;
    }
    lookup_t *lookup = calloc(1, sizeof(*lookup));
    if (lookup == NULL)
        return FL_ENOMEM;
    pthread_mutex_init(&lookup->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&lookup->done_cond, &attr);
    pthread_condattr_destroy(&attr);
    snprintf(lookup->host, sizeof(lookup->host), "%s", host);
    snprintf(lookup->port, sizeof(lookup->port), "%s", port);
    lookup->refs = 1;
    int rc = lookup_start(lookup);
    if (rc != 0)
        snprintf(why, why_size, "looking up %s: no thread for it", host);
    uint64_t started = fl_mono_ns();
    pthread_mutex_lock(&lookup->lock);
    while (rc == 0 && !lookup->done) {
        uint64_t now = fl_mono_ns();
        if (now >= deadline_ns) {
            rc = FL_ETIMEDOUT;
            break;
        }
        uint64_t slice = (uint64_t)PRJ_WAIT_MS * 1000000u;
        uint64_t until = deadline_ns - now < slice ? deadline_ns : now + slice;
        struct timespec at = {.tv_sec = (time_t)(until / 1000000000u),
                              .tv_nsec = (long)(until % 1000000000u)};
        if (pthread_cond_timedwait(&lookup->done_cond, &lookup->lock, &at) != 0 && !lookup->done &&
            sink->stopping != NULL) {
            /* A slice went by: the stop is asked outside the lookup's lock. */
            pthread_mutex_unlock(&lookup->lock);
            bool stop = sink->stopping(sink->stopping_data);
            pthread_mutex_lock(&lookup->lock);
            if (stop && !lookup->done)
                rc = FL_ECANCELED;
        }
    }
    if (rc == 0 && lookup->gai_rc != 0) {
        snprintf(why, why_size, "%s does not resolve: %s", host, gai_strerror(lookup->gai_rc));
        rc = FL_ESINK_DOWN;
    } else if (rc == 0 && lookup->count == 0) {
        snprintf(why, why_size, "%s resolves to no address", host);
        rc = FL_ESINK_DOWN;
    } else if (rc == 0) {
        memcpy(out->addrs, lookup->addrs, sizeof(out->addrs));
        out->count = lookup->count;
    } else if (rc == FL_ETIMEDOUT) {
        snprintf(why, why_size, "looking up %s: no answer in %llu ms", host,
                 (unsigned long long)((fl_mono_ns() - started) / 1000000u));
    }
    pthread_mutex_unlock(&lookup->lock);
    lookup_release(lookup);
    return rc;
}
