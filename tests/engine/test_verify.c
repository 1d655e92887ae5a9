/*
 * Tests of verification: an untouched ledger verifies; a byte flipped in the data file is
 * found and the record named.
 */
#include "tests/support/support.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

static char dir[256];

static void setup(void)
{
    test_tmpdir(dir, sizeof(dir));
}

static void teardown(void)
{
    test_tmpdir_remove(dir);
}

TestSuite(verify, .init = setup, .fini = teardown, .timeout = 60);

/* Writes count events in several commits; event number n's payload starts "hu-v#n". */
static void fill(unsigned count)
{
    eng_ledger_t *ledger = test_ledger_open(dir);
    for (unsigned i = 0; i < count; i += 10) {
        test_event_t e[10];
        eng_event_t events[10];
        for (unsigned j = 0; j < 10; j++) {
            test_event_make(&e[j], "hu-v", i + j + 1);
            events[j] = e[j].event;
        }
        eng_position_t positions[10];
        cr_assert_eq(eng_append(ledger, events, 10, 0, positions, NULL), 0);
    }
    eng_close(ledger);
}

/* Flips one bit inside every copy of the marker in the data file (old page copies included);
 * returns the number of copies changed. */
static int flip_in_data_file(const char *marker, size_t offset_in_marker)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cr_assert_neq(map, MAP_FAILED);
    size_t len = strlen(marker);
    int found = 0;
    for (size_t at = 0; at + len <= (size_t)st.st_size; at++) {
        if (memcmp(map + at, marker, len) == 0 && map[at + len] == '\0') {
            map[at + offset_in_marker] ^= 0x01;
            found++;
        }
    }
    msync(map, (size_t)st.st_size, MS_SYNC);
    munmap(map, (size_t)st.st_size);
    close(fd);
    return found;
}

Test(verify, an_untouched_ledger_verifies)
{
    fill(200);
    eng_ledger_t *ledger = test_ledger_open(dir);
    uint64_t checked, bad;
    cr_assert_eq(eng_verify(ledger, &checked, &bad), 0);
    cr_assert_eq(checked, 200);
    cr_assert_eq(bad, 0);
    eng_close(ledger);
}

Test(verify, a_flipped_byte_in_a_payload_names_its_record)
{
    fill(200);
    cr_assert_gt(flip_in_data_file("hu-v#137", 5), 0, "marker not found in the data file");
    eng_ledger_t *ledger = test_ledger_open(dir);
    uint64_t checked, bad;
    cr_assert_eq(eng_verify(ledger, &checked, &bad), FL_ECORRUPT);
    cr_assert_eq(bad, 137);
    cr_assert_eq(checked, 136, "every record before the damaged one verified");
    eng_close(ledger);
}

Test(verify, a_damaged_record_that_still_decodes_is_found_by_its_hash)
{
    fill(50);
    /* Changes a payload character: still valid msgpack, only the hash can tell. */
    cr_assert_gt(flip_in_data_file("hu-v#7", 0), 0);
    eng_ledger_t *ledger = test_ledger_open(dir);
    eng_iter_t *iter;
    eng_record_t r;
    cr_assert_eq(eng_read(ledger, 7, &r, &iter), 0, "the record still decodes");
    eng_iter_close(iter);
    uint64_t checked, bad;
    cr_assert_eq(eng_verify(ledger, &checked, &bad), FL_ECORRUPT);
    cr_assert_eq(bad, 7);
    eng_close(ledger);
}
