/*
 * The sinks' host names (tests/support/servers.sh's servers): a resolver that answers nothing
 * makes a sink down after its timeout, with the name in the error, and never holds a projector's
 * stop; a name the resolver knows is looked up and projected into. Each test runs in a mount
 * namespace of its own whose /etc/resolv.conf names a local socket that reads nothing (a DNS
 * server gone silent), whose /etc/hosts names the test's servers, and whose nsswitch.conf asks
 * the hosts file, then DNS. Skipped where mounts or port 53 are not permitted.
 */
#define _GNU_SOURCE /* unshare */
#include "tests/projections/projections_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>

#define SILENT_DNS_FIRST 77 /* the silent resolver: port 53 of 127.0.0.77 or the next free */
#define SILENT_NAME      "silent.plant.test"
#define KNOWN_NAME       "sinks.plant.test" /* in the namespace's hosts file: 127.0.0.1 */
#define IO_TIMEOUT_MS    1000
#define STOP_PROMPT_MS   1500 /* PRJ_WAIT_MS and a slice of slack, far below the resolver's */

static int silent_dns = -1;

/* Binds path (a file written here) over target in this process's mount namespace. */
static void bind_file(const char *name, const char *target, const char *text)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *file = fopen(path, "w");
    cr_assert_not_null(file, "%s", path);
    fputs(text, file);
    fclose(file);
    if (access(target, F_OK) != 0 || mount(path, target, NULL, MS_BIND, NULL) != 0)
        cr_skip_test("cannot bind a file over %s here", target);
}

static void dns_setup(void)
{
    servers_take(false);
    projections_setup();
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        cr_skip_test("a mount namespace is not permitted here (needs CAP_SYS_ADMIN)");
    /* Tests run side by side: each takes the first free address of 127.0.0.SILENT_DNS_FIRST... */
    silent_dns = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(silent_dns, 0);
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(53)};
    int bound = -1;
    for (unsigned last = SILENT_DNS_FIRST; bound != 0 && last < SILENT_DNS_FIRST + 64; last++) {
        at.sin_addr.s_addr = htonl(INADDR_LOOPBACK & 0xffffff00u) | htonl(last);
        bound = bind(silent_dns, (struct sockaddr *)&at, sizeof(at));
    }
    char addr[INET_ADDRSTRLEN], resolv[128];
    inet_ntop(AF_INET, &at.sin_addr, addr, sizeof(addr));
    if (bound != 0)
        cr_skip_test("cannot listen on port 53 of 127.0.0.x here: %s", strerror(errno));
    /* Long timeouts: without a deadline of its own, a sink would wait minutes for them. */
    snprintf(resolv, sizeof(resolv), "nameserver %s\noptions timeout:30 attempts:3\n", addr);
    bind_file("resolv.conf", "/etc/resolv.conf", resolv);
    bind_file("hosts", "/etc/hosts", "127.0.0.1 localhost " KNOWN_NAME "\n");
    bind_file("nsswitch.conf", "/etc/nsswitch.conf", "hosts: files dns\n");
}

static void dns_teardown(void)
{
    if (silent_dns >= 0)
        close(silent_dns);
    teardown();
}

TestSuite(dns, .init = dns_setup, .fini = dns_teardown, .timeout = 120);

/* The servers' URL with its host 127.0.0.1 replaced by name. */
static void url_with_host(const char *env, const char *name, char *url, size_t size)
{
    const char *base = env_or_skip(env);
    const char *at = strstr(base, "127.0.0.1");
    cr_assert_not_null(at, "%s names 127.0.0.1: %s", env, base);
    snprintf(url, size, "%.*s%s%s", (int)(at - base), base, name, at + strlen("127.0.0.1"));
}

static prj_sink_t *sink_named(bool postgres, const char *name)
{
    char url[PRJ_URL_LEN_MAX + 1], tenant[PRJ_TENANT_LEN_MAX + 1];
    url_with_host(postgres ? "FL_TEST_PG_URL" : "FL_TEST_REDIS_URL", name, url, sizeof(url));
    snprintf(tenant, sizeof(tenant), "dns%d", (int)getpid());
    prj_sink_t *sink = NULL;
    cr_assert_eq(postgres ? prj_pg_sink_open(&sink, url, tenant)
                          : prj_redis_sink_open(&sink, url, tenant),
                 0, "%s", url);
    return sink;
}

/* The sink's host answers nothing: down after the timeout, naming the lookup; stopped at once,
 * by the default timeout too, while a lookup is under way. */
static void silent_resolver_is_a_timeout(bool postgres)
{
    prj_sink_t *sink = sink_named(postgres, SILENT_NAME);
    prj_projector_t *projector = projector_start_timeout(sink, "dns", 100, IO_TIMEOUT_MS);
    uint32_t waited = faulted_with(projector, "looking up " SILENT_NAME ": no answer", 10000);
    cr_log_info("down after %u ms", waited);
    cr_assert_geq(waited, IO_TIMEOUT_MS - 100, "the lookup had its whole timeout");
    uint32_t ms = stop_timed(projector);
    cr_log_info("stopped in %u ms", ms);
    cr_assert_lt(ms, STOP_PROMPT_MS, "prj_stop took %u ms while the resolver answered nothing", ms);

    projector = projector_start(sink, "dns", 100, PRJ_POISON_SKIP); /* PRJ_IO_TIMEOUT_S */
    wait_ms(500);
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_neq(status.state, PRJ_STATE_RUNNING, "%s", prj_state_name(status.state));
    ms = stop_timed(projector);
    cr_log_info("stopped in %u ms in the middle of a lookup", ms);
    cr_assert_lt(ms, STOP_PROMPT_MS, "prj_stop took %u ms in the middle of a lookup", ms);
    prj_sink_close(sink);
}

Test(dns, a_postgres_host_whose_resolver_is_silent_is_down_after_the_timeout_and_stops_at_once)
{
    silent_resolver_is_a_timeout(true);
}

Test(dns, a_redis_host_whose_resolver_is_silent_is_down_after_the_timeout_and_stops_at_once)
{
    silent_resolver_is_a_timeout(false);
}

/* A name the hosts file knows: looked up, connected to, projected into. */
static void known_name_is_projected_into(bool postgres)
{
    prj_sink_t *sink = sink_named(postgres, KNOWN_NAME);
    prj_projector_t *projector = projector_start(sink, "dns", 100, PRJ_POISON_SKIP);
    the_plant_works_a_day();
    caught_up(projector, 30000);
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_eq(status.checkpoint, head_seq());
    prj_stop(projector);
    prj_sink_close(sink);
}

Test(dns, a_postgres_host_named_in_the_hosts_file_is_looked_up_and_projected_into)
{
    known_name_is_projected_into(true);
}

Test(dns, a_redis_host_named_in_the_hosts_file_is_looked_up_and_projected_into)
{
    known_name_is_projected_into(false);
}
