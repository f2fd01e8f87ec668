/* pgoutput decoding: hand-built messages of every kind decode to the
 * expected fields; every truncation and single-byte corruption of them is
 * an error or a clean decode, never a crash (the sanitizer builds check
 * the "never"). The real-server check is integration/060_pgoutput.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/io_pgrepl.h"

typedef struct buf {
    uint8_t b[512];
    size_t n;
} buf;

static void
be(buf *b, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        b->b[b->n + (size_t)i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    b->n += (size_t)bytes;
}

static void
cstr(buf *b, const char *s)
{
    size_t l = strlen(s) + 1;
    memcpy(b->b + b->n, s, l);
    b->n += l;
}

static void
text_val(buf *b, const char *s)
{
    b->b[b->n++] = 't';
    be(b, strlen(s), 4);
    memcpy(b->b + b->n, s, strlen(s));
    b->n += strlen(s);
}

static void
test_relation_insert_update_delete(void **state)
{
    (void)state;
    io_pgrepl_scratch sc = {0};
    io_pgrepl_msg m;
    eng_err err;
    eng_err_clear(&err);
    buf r = {.n = 0};
    r.b[r.n++] = 'R';
    be(&r, 16384, 4);
    cstr(&r, "public");
    cstr(&r, "accounts");
    r.b[r.n++] = 'd';
    be(&r, 2, 2);
    r.b[r.n++] = 1;
    cstr(&r, "id");
    be(&r, 23, 4);
    be(&r, 0xffffffffu, 4);
    r.b[r.n++] = 0;
    cstr(&r, "owner");
    be(&r, 25, 4);
    be(&r, 0xffffffffu, 4);
    assert_int_equal(io_pgrepl_decode(r.b, r.n, &sc, &m, &err), 0);
    assert_int_equal(m.kind, 'R');
    assert_int_equal(m.relid, 16384);
    assert_string_equal(m.nspname, "public");
    assert_string_equal(m.relname, "accounts");
    assert_int_equal(m.replident, 'd');
    assert_int_equal(m.ncols, 2);
    assert_string_equal(m.cols[1].name, "owner");
    assert_int_equal(m.cols[0].flags, 1);
    assert_int_equal(m.cols[0].type_oid, 23);
    assert_int_equal(m.cols[0].typmod, -1);

    buf u = {.n = 0};
    u.b[u.n++] = 'U';
    be(&u, 16384, 4);
    u.b[u.n++] = 'O';
    be(&u, 2, 2);
    text_val(&u, "1");
    u.b[u.n++] = 'n';
    u.b[u.n++] = 'N';
    be(&u, 2, 2);
    text_val(&u, "1");
    u.b[u.n++] = 'u';
    assert_int_equal(io_pgrepl_decode(u.b, u.n, &sc, &m, &err), 0);
    assert_int_equal(m.kind, 'U');
    assert_int_equal(m.old_kind, 'O');
    assert_int_equal(m.oldtup.ncols, 2);
    assert_int_equal(m.oldtup.values[1].kind, 'n');
    assert_int_equal(m.newtup.values[0].kind, 't');
    assert_int_equal(m.newtup.values[0].len, 1);
    assert_memory_equal(m.newtup.values[0].data, "1", 1);
    assert_int_equal(m.newtup.values[1].kind, 'u'); /* unchanged TOAST */

    buf d = {.n = 0};
    d.b[d.n++] = 'D';
    be(&d, 16384, 4);
    d.b[d.n++] = 'K';
    be(&d, 1, 2);
    text_val(&d, "42");
    assert_int_equal(io_pgrepl_decode(d.b, d.n, &sc, &m, &err), 0);
    assert_int_equal(m.old_kind, 'K');
    assert_memory_equal(m.oldtup.values[0].data, "42", 2);

    buf t = {.n = 0};
    t.b[t.n++] = 'T';
    be(&t, 2, 4);
    t.b[t.n++] = 1;
    be(&t, 16384, 4);
    be(&t, 16390, 4);
    assert_int_equal(io_pgrepl_decode(t.b, t.n, &sc, &m, &err), 0);
    assert_int_equal(m.nrels, 2);
    assert_int_equal(m.relids[1], 16390);
    assert_int_equal(m.truncate_options, 1);

    buf bm = {.n = 0};
    bm.b[bm.n++] = 'B';
    be(&bm, 0x16B3748, 8);
    be(&bm, 123456789, 8);
    be(&bm, 777, 4);
    assert_int_equal(io_pgrepl_decode(bm.b, bm.n, &sc, &m, &err), 0);
    assert_int_equal(m.lsn, 0x16B3748);
    assert_int_equal(m.xid, 777);

    /* Every truncation of every message fails cleanly; so does a
     * trailing byte. Every single-byte corruption decodes or fails. */
    buf *all[] = {&r, &u, &d, &t, &bm};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        for (size_t cut = 0; cut < all[k]->n; cut++) {
            eng_err_clear(&err);
            assert_int_equal(io_pgrepl_decode(all[k]->b, cut, &sc, &m, &err), -1);
            assert_string_equal(err.sqlstate, cut == 0 ? "XX001" : err.sqlstate);
        }
        all[k]->b[all[k]->n] = 0;
        eng_err_clear(&err);
        assert_int_equal(io_pgrepl_decode(all[k]->b, all[k]->n + 1, &sc, &m, &err), -1);
        for (size_t i = 0; i < all[k]->n; i++)
            for (int v = 0; v < 256; v += 17) {
                buf x = *all[k];
                x.b[i] = (uint8_t)v;
                eng_err_clear(&err);
                (void)io_pgrepl_decode(x.b, x.n, &sc, &m, &err);
            }
    }
    io_pgrepl_scratch_free(&sc);
}

static void
test_frames(void **state)
{
    (void)state;
    eng_err err;
    eng_err_clear(&err);
    buf k = {.n = 0};
    k.b[k.n++] = 'k';
    be(&k, 0x1000, 8);
    be(&k, 5, 8);
    k.b[k.n++] = 1;
    io_pgrepl_frame f;
    assert_int_equal(io_pgrepl_frame_decode(k.b, k.n, &f, &err), 0);
    assert_int_equal(f.kind, 'k');
    assert_int_equal(f.end, 0x1000);
    assert_true(f.reply);
    assert_int_equal(io_pgrepl_frame_decode(k.b, k.n - 1, &f, &err), -1);
    buf w = {.n = 0};
    w.b[w.n++] = 'w';
    be(&w, 0x10, 8);
    be(&w, 0x20, 8);
    be(&w, 9, 8);
    w.b[w.n++] = 'B';
    assert_int_equal(io_pgrepl_frame_decode(w.b, w.n, &f, &err), 0);
    assert_int_equal(f.start, 0x10);
    assert_int_equal(f.len, 1);
    assert_int_equal(f.data[0], 'B');
    uint8_t st[34];
    assert_int_equal(io_pgrepl_status_encode(st, 1, 2, 3, 4, true), 34);
    assert_int_equal(st[0], 'r');
    assert_int_equal(st[8], 1);
    assert_int_equal(st[33], 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relation_insert_update_delete),
        cmocka_unit_test(test_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
