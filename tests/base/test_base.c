/* Tests of base: the error list, UUIDv7 and hex. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/base.h"

Test(base, every_listed_code_has_a_name_a_message_and_a_status)
{
    int codes[] = {
#define FL_TEST_CODE(name, value, status, message) value,
        FL_ERR_MAP(FL_TEST_CODE)
#undef FL_TEST_CODE
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        cr_assert_lt(codes[i], 0);
        cr_assert_str_neq(fl_errname(codes[i]), "UNKNOWN");
        cr_assert_str_neq(fl_strerror(codes[i]), "unknown error");
        cr_assert(fl_err_http_status(codes[i]) >= 400);
        for (size_t j = 0; j < i; j++)
            cr_assert_neq(codes[i], codes[j], "two names share the code %d", codes[i]);
    }
    cr_assert_eq(fl_err_http_status(FL_ECONFLICT_VERSION), 409);
    cr_assert_str_eq(fl_errname(FL_ECONFLICT_ID), "CONFLICT_ID");
}

Test(base, errno_values_outside_the_list_map_to_io_errors)
{
    cr_assert_eq(fl_err_from_errno(ENOSPC), FL_ENOSPC);
    cr_assert_eq(fl_err_from_errno(EFBIG), FL_ENOSPC);
    cr_assert_eq(fl_err_from_errno(ENOTTY), FL_EIO);
}

Test(base, uuid7_has_version_and_variant_bits_and_round_trips_through_text)
{
    uint8_t a[16], b[16], parsed[16];
    cr_assert_eq(fl_uuid7(a), 0);
    cr_assert_eq(fl_uuid7(b), 0);
    cr_assert_eq(a[6] >> 4, 7);
    cr_assert_eq(a[8] >> 6, 2);
    cr_assert_neq(memcmp(a, b, 16), 0);
    char text[37];
    fl_uuid_format(a, text);
    cr_assert_eq(strlen(text), 36);
    cr_assert_eq(fl_uuid_parse(text, 36, parsed), 0);
    cr_assert_arr_eq(parsed, a, 16);
}

Test(base, malformed_uuids_are_refused)
{
    uint8_t id[16];
    cr_assert_eq(fl_uuid_parse("0190b2a0-7c1d-7000-8000-00000000000", 35, id), FL_EINVAL);
    cr_assert_eq(fl_uuid_parse("0190b2a0x7c1d-7000-8000-000000000000", 36, id), FL_EINVAL);
    cr_assert_eq(fl_uuid_parse("0190b2a0-7c1d-7000-8000-00000000000g", 36, id), FL_EINVAL);
}
