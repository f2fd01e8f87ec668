/* What the two Avro test programs share (see avro_check.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_text.h"
#include "tests/io/avro_check.h"

const char *const t_avro_all_types =
    "{\"type\":\"record\",\"name\":\"T\",\"namespace\":\"x\",\"fields\":["
    "{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i\",\"type\":\"int\"},"
    "{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},"
    "{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"s\",\"type\":\"string\"},"
    "{\"name\":\"y\",\"type\":\"bytes\"},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"RED\",\"BLUE\"]}},"
    "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}},"
    "{\"name\":\"n\",\"type\":[\"null\",\"int\"]},"
    "{\"name\":\"dec\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":10,"
    "\"scale\":2}},"
    "{\"name\":\"fdec\",\"type\":{\"type\":\"fixed\",\"name\":\"D\",\"size\":3,\"logicalType\":"
    "\"decimal\",\"precision\":6,\"scale\":3}},"
    "{\"name\":\"dt\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
    "{\"name\":\"tm\",\"type\":{\"type\":\"int\",\"logicalType\":\"time-millis\"}},"
    "{\"name\":\"tu\",\"type\":{\"type\":\"long\",\"logicalType\":\"time-micros\"}},"
    "{\"name\":\"tsm\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"tsu\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
    "{\"name\":\"u\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
    "{\"name\":\"ns\",\"type\":[\"null\",\"string\"]}"
    "]}";

void
t_avro_row_text(const io_avro_decoder *d, eng_row r, char *out, size_t cap)
{
    eng_strbuf sb = {0};
    const io_avro_column *cols = io_avro_decoder_cols(d);
    uint32_t pos = 0;
    for (int i = 0; i < io_avro_decoder_ncols(d); i++) {
        assert_true(pos < r.len);
        eng_datum dt = eng_row_next(r, &pos);
        if (i)
            eng_strbuf_putc(&sb, '|');
        if (dt.tag == ENG_TAG_NULL)
            eng_strbuf_puts(&sb, "NULL");
        else {
            assert_true(eng_type_tag_matches(&cols[i].type, dt.tag));
            eng_text_format(&cols[i].type, dt, &sb);
        }
    }
    assert_int_equal(pos, r.len);
    snprintf(out, cap, "%.*s", (int)sb.len, sb.data ? sb.data : "");
    eng_strbuf_free(&sb);
}

char *
t_avro_slurp(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SLUICE_REFERENCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    static char text[2][16384];
    static int which;
    char *t = text[which++ % 2];
    size_t n = fread(t, 1, sizeof text[0] - 1, f);
    t[n] = 0;
    fclose(f);
    return t;
}
