/*
 * bench/done.h: finished append requests handed from the engine's writer thread (their
 * callbacks) to the one thread that drives them, as foutad's event loop is handed its answers.
 * The benchmarks' driven appenders (engine's *_submit runs, catalog's) embed a done_node_t.
 * Header-only, like hist.h: each benchmark is one program.
 */
#ifndef FL_BENCH_DONE_H
#define FL_BENCH_DONE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct done_node {
    struct done_node *next;
} done_node_t;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    done_node_t *first; /* finished and not yet taken, newest first */
    bool waiting;       /* the driving thread sleeps on wake */
} done_list_t;

/* The struct of type that embeds node as member. */
#define DONE_OWNER(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

static inline void done_init(done_list_t *list)
{
    list->first = NULL;
    list->waiting = false;
    pthread_mutex_init(&list->lock, NULL);
    pthread_cond_init(&list->wake, NULL);
}

static inline void done_destroy(done_list_t *list)
{
    pthread_cond_destroy(&list->wake);
    pthread_mutex_destroy(&list->lock);
}

/* From a writer's callback: quick, and one wake-up for a commit's whole burst. */
static inline void done_push(done_list_t *list, done_node_t *node)
{
    pthread_mutex_lock(&list->lock);
    node->next = list->first;
    list->first = node;
    if (list->waiting) {
        list->waiting = false;
        pthread_cond_signal(&list->wake);
    }
    pthread_mutex_unlock(&list->lock);
}

/* Waits for at least one finished request, then takes them all (linked by next). */
static inline done_node_t *done_take(done_list_t *list)
{
    pthread_mutex_lock(&list->lock);
    while (list->first == NULL) {
        list->waiting = true;
        pthread_cond_wait(&list->wake, &list->lock);
    }
    done_node_t *first = list->first;
    list->first = NULL;
    pthread_mutex_unlock(&list->lock);
    return first;
}

#endif
