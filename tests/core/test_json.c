/* Unit tests: json validation and jsonb canonical text (engine/core/json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/eng_text.h"

static eng_strbuf sb;

static void
jsonb(const char *in, const char *want)
{
    eng_err e;
    eng_err_clear(&e);
    eng_strbuf_reset(&sb);
    int rc = eng_jsonb_canonicalize(in, strlen(in), &sb, &e);
    if (want[0] == '!') {
        if (rc == 0)
            fail_msg("jsonb %s accepted as %s, want error %s", in, eng_strbuf_cstr(&sb), want + 1);
        if (strcmp(e.sqlstate, want + 1) != 0)
            fail_msg("jsonb %s: %s %s, want %s", in, e.sqlstate, e.message, want + 1);
        return;
    }
    if (rc != 0)
        fail_msg("jsonb %s: %s (%s)", in, e.message, e.detail);
    if (strcmp(eng_strbuf_cstr(&sb), want) != 0)
        fail_msg("jsonb %s -> %s, want %s", in, eng_strbuf_cstr(&sb), want);
}

static void
json_ok(const char *in)
{
    eng_err e;
    eng_err_clear(&e);
    if (eng_json_validate(in, strlen(in), &e) != 0)
        fail_msg("json %s rejected: %s", in, e.detail);
}

/* Expects a json error with the given detail line. */
static void
json_bad(const char *in, const char *detail)
{
    eng_err e;
    eng_err_clear(&e);
    if (eng_json_validate(in, strlen(in), &e) == 0)
        fail_msg("json %s accepted", in);
    assert_string_equal(e.sqlstate, "22P02");
    assert_string_equal(e.message, "invalid input syntax for type json");
    if (detail && strcmp(e.detail, detail) != 0)
        fail_msg("json %s: detail \"%s\", want \"%s\"", in, e.detail, detail);
}

static void
test_json_validate(void **state)
{
    (void)state;
    json_ok("{}");
    json_ok(" [ ] ");
    json_ok("1");
    json_ok("-0.5e+10");
    json_ok("\"\\u0000\""); /* json keeps escapes undecoded */
    json_ok("\"\\ud83d\"");
    json_ok("{\"a\":[1,{\"b\":null}],\"a\":true}");
    json_ok("\"\x7f\"");
    json_bad("", "The input string ended unexpectedly.");
    json_bad("01", "Token \"01\" is invalid.");
    json_bad("1.", "Token \"1.\" is invalid.");
    json_bad("-", "Token \"-\" is invalid.");
    json_bad(".5", "Token \".\" is invalid.");
    json_bad("tru", "Token \"tru\" is invalid.");
    json_bad("nullx", "Token \"nullx\" is invalid.");
    json_bad("[1] x", "Token \"x\" is invalid.");
    json_bad("[1] 2", "Expected end of input, but found \"2\".");
    json_bad("[1,]", "Expected JSON value, but found \"]\".");
    json_bad("[1 2]", "Expected \",\" or \"]\", but found \"2\".");
    json_bad("{1:2}", "Expected string or \"}\", but found \"1\".");
    json_bad("{\"a\":1,}", "Expected string, but found \"}\".");
    json_bad("{\"a\" 1}", "Expected \":\", but found \"1\".");
    json_bad("{\"a\":1 \"b\"}", "Expected \",\" or \"}\", but found \"\"b\"\".");
    json_bad("[1,2", "The input string ended unexpectedly.");
    json_bad("\"a\tb\"", "Character with value 0x09 must be escaped.");
    json_bad("\"\\x\"", "Escape sequence \"\\x\" is invalid.");
    json_bad("\"\\u12\"", "\"\\u\" must be followed by four hexadecimal digits.");
    json_bad("\"abc", "Token \"\"abc\" is invalid.");
    /* nesting is bounded */
    char deep[20001];
    memset(deep, '[', 20000);
    deep[20000] = '\0';
    eng_err e;
    eng_err_clear(&e);
    assert_int_equal(eng_json_validate(deep, 20000, &e), -1);
    assert_string_equal(e.sqlstate, "54001");
}

static void
test_jsonb_canonical(void **state)
{
    (void)state;
    jsonb("{\"b\":1,\"a\":2,\"aa\":[1,2.50,1e2,-0,1E-2],\"a\":3}",
          "{\"a\": 3, \"b\": 1, \"aa\": [1, 2.50, 100, 0, 0.01]}");
    jsonb(" [ ] ", "[]");
    jsonb(" { } ", "{}");
    jsonb("  1  ", "1");
    jsonb("true", "true");
    jsonb("null", "null");
    jsonb("-1.5E+3", "-1500");
    jsonb("0.000", "0.000");
    jsonb("123456789012345678901234567890", "123456789012345678901234567890");
    jsonb("[1,[2,{\"x\":null}],true,false]", "[1, [2, {\"x\": null}], true, false]");
    jsonb("{\"aaa\":1, \"b\":2, \"cc\":3, \"a\":4}", "{\"a\": 4, \"b\": 2, \"cc\": 3, \"aaa\": 1}");
    jsonb("{\"\":1, \"a\":{}, \"b\":[]}", "{\"\": 1, \"a\": {}, \"b\": []}");
    jsonb("\"\\ud83d\\ude00 \\/ \\u00e9\\t\\u001f\"", "\"\xf0\x9f\x98\x80 / \xc3\xa9\\t\\u001f\"");
    jsonb("\"\\\\\\\"\\b\\f\\n\\r\\t\"", "\"\\\\\\\"\\b\\f\\n\\r\\t\"");
    jsonb("{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}",
          "{\"a\": {\"b\": {\"c\": [1, {\"d\": null}]}}}");
    jsonb("{\"k\":1,\"k\":2,\"k\":3}", "{\"k\": 3}");
    jsonb("\"\\u0000\"", "!22P05");
    jsonb("\"\\ud83d\"", "!22P02");
    jsonb("\"\\ude00\"", "!22P02");
    jsonb("\"\\ud83d\\ud83d\"", "!22P02");
    jsonb("\"\\ud83dx\"", "!22P02");
    jsonb("1e200000", "!22003");
    jsonb("[1,", "!22P02");
    eng_err e;
    eng_err_clear(&e);
    eng_strbuf_reset(&sb);
    eng_jsonb_canonicalize("\"\\u0000\"", 8, &sb, &e);
    assert_string_equal(e.message, "unsupported Unicode escape sequence");
    assert_string_equal(e.detail, "\\u0000 cannot be converted to text.");
}

static uint64_t rng;

static uint64_t
rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static void
random_doc(eng_strbuf *b, int depth)
{
    static const char *keys[] = {"a", "b", "ab", "ba", "", "key", "k\\\"q", "\\u00e9", "z"};
    switch (rnd() % (depth > 3 ? 4 : 6)) {
    case 0:
        eng_strbuf_puts(b, "true");
        break;
    case 1:
        eng_strbuf_printf(b, "%d.%02d", (int)(rnd() % 1000) - 500, (int)(rnd() % 100));
        break;
    case 2:
        eng_strbuf_printf(b, "\"%s\"", keys[rnd() % 9]);
        break;
    case 3:
        eng_strbuf_puts(b, "null");
        break;
    case 4: {
        eng_strbuf_putc(b, '[');
        int n = (int)(rnd() % 4);
        for (int i = 0; i < n; i++) {
            if (i)
                eng_strbuf_putc(b, ',');
            random_doc(b, depth + 1);
        }
        eng_strbuf_putc(b, ']');
        break;
    }
    default: {
        eng_strbuf_putc(b, '{');
        int n = (int)(rnd() % 5);
        for (int i = 0; i < n; i++) {
            if (i)
                eng_strbuf_putc(b, ',');
            eng_strbuf_printf(b, "\"%s\":", keys[rnd() % 9]);
            random_doc(b, depth + 1);
        }
        eng_strbuf_putc(b, '}');
        break;
    }
    }
}

/* jsonb canonical text is a fixed point: canonicalize(canonicalize(x)) is
 * canonicalize(x), and it is valid json. */
static void
test_random_fixed_point(void **state)
{
    (void)state;
    uint64_t seed = 4242;
    rng = seed;
    eng_strbuf in = {0}, once = {0}, twice = {0};
    for (int i = 0; i < 5000; i++) {
        eng_strbuf_reset(&in);
        random_doc(&in, 0);
        eng_strbuf_reset(&once);
        eng_strbuf_reset(&twice);
        eng_err e;
        eng_err_clear(&e);
        if (eng_jsonb_canonicalize(in.data, in.len, &once, &e) != 0)
            fail_msg("seed %" PRIu64 " i %d: %s: %s", seed, i, in.data, e.detail);
        assert_int_equal(eng_json_validate(once.data, once.len, NULL), 0);
        assert_int_equal(eng_jsonb_canonicalize(once.data, once.len, &twice, NULL), 0);
        if (strcmp(eng_strbuf_cstr(&once), eng_strbuf_cstr(&twice)) != 0)
            fail_msg("seed %" PRIu64 " i %d: %s -> %s -> %s", seed, i, in.data, once.data,
                     twice.data);
    }
    eng_strbuf_free(&in);
    eng_strbuf_free(&once);
    eng_strbuf_free(&twice);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_validate),
        cmocka_unit_test(test_jsonb_canonical),
        cmocka_unit_test(test_random_fixed_point),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    eng_strbuf_free(&sb);
    return rc;
}
