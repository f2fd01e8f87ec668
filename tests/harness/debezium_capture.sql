-- Debezium's PostgreSQL connector imitated inside PostgreSQL, for tests of
-- the Kafka sources: triggers write, for every change to a captured table,
-- the messages Debezium would publish (JsonConverter with
-- schemas.enable=true, topic.prefix 'pg_repl', provide.transaction.metadata
-- true) into the outbox dbz_out, in commit order, as sluice-kafka-produce
-- input lines (@P<TAB>KEY<TAB>VALUE). The shapes are those of Debezium's
-- documentation (/work/shared/reference/debezium-samples): an envelope
-- {"schema", "payload"} with before, after, source (version, connector,
-- name, ts_ms/us/ns, snapshot, db, sequence, schema, table, txId, lsn,
-- xmin), op, ts_ms/us/ns and the transaction block; a key
-- {"schema", "payload": {"id": N}} (a null key for a table without primary
-- key); int2/4/8 as int16/32/64, text as string, bool as boolean, numeric(p,s)
-- as Connect Decimal (base64 big-endian two's complement of the unscaled
-- value, "scale" and "connect.decimal.precision" parameters), timestamp as
-- io.debezium.time.MicroTimestamp.
--
-- What each change gives (as Debezium does with pgoutput):
--   INSERT               op c (after)
--   UPDATE               op u (after; before: the old row under REPLICA
--                        IDENTITY FULL, else null, or only the key when the
--                        session has SET dbz.update_before = 'key', as the
--                        documentation's sample shows)
--   DELETE               op d (before: the old row under FULL, else only the
--                        key), then a tombstone (the key, a null value)
--   UPDATE of the key    op d (old key) + tombstone + op c (new key)
--   TRUNCATE             op t with a null key
-- Snapshot rows (dbz_snapshot) are op r with source.snapshot true and no
-- transaction block. Every other event carries its transaction
-- ({"id": "txId:lsn", "total_order", "data_collection_order"}); the
-- transaction topic pg_repl.transaction gets BEGIN before the first event
-- and END (event_count, data_collections) at commit (a deferred trigger).
-- Messages of a key go to partition hash(key) % parts; null keys to 0.
--
--   SELECT dbz_capture('table1', 3);  -- topic pg_repl.public.table1, 3 partitions
--   SELECT dbz_snapshot('table1');    -- op r for every row now in table1
--   SELECT dbz_take('pg_repl.public.table1', 10);  -- next 10 lines (NULL: all)
CREATE TABLE dbz_topics (rel regclass PRIMARY KEY, topic text NOT NULL, parts int NOT NULL);
CREATE TABLE dbz_out (
    seq bigserial PRIMARY KEY,
    topic text NOT NULL,
    line text NOT NULL,
    txn text,    -- the transaction of a data event, BEGIN or END
    coll text,   -- a data event's collection (schema.table)
    status text, -- BEGIN / END on the transaction topic
    taken bool NOT NULL DEFAULT false
);

-- {"type", "optional", "field"}
CREATE FUNCTION dbz_f(typ text, field text, opt bool) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('type', typ, 'optional', opt, 'field', field)
$$;

-- The Connect schema of a column.
CREATE FUNCTION dbz_field(typ regtype, typmod int, opt bool, name text) RETURNS json
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE typ
    WHEN 'int2'::regtype THEN RETURN dbz_f('int16', name, opt);
    WHEN 'int4'::regtype THEN RETURN dbz_f('int32', name, opt);
    WHEN 'int8'::regtype THEN RETURN dbz_f('int64', name, opt);
    WHEN 'bool'::regtype THEN RETURN dbz_f('boolean', name, opt);
    WHEN 'text'::regtype THEN RETURN dbz_f('string', name, opt);
    WHEN 'numeric'::regtype THEN
        IF typmod < 0 THEN
            RAISE EXCEPTION 'dbz: numeric without precision (VariableScaleDecimal) is not imitated';
        END IF;
        RETURN json_build_object('type', 'bytes', 'optional', opt,
            'name', 'org.apache.kafka.connect.data.Decimal', 'version', 1,
            'parameters', json_build_object('scale', ((typmod - 4) & 65535)::text,
                                            'connect.decimal.precision', ((typmod - 4) >> 16)::text),
            'field', name);
    WHEN 'timestamp'::regtype THEN
        RETURN json_build_object('type', 'int64', 'optional', opt,
            'name', 'io.debezium.time.MicroTimestamp', 'version', 1, 'field', name);
    ELSE
        RAISE EXCEPTION 'dbz: type % is not imitated', typ;
    END CASE;
END $$;

-- Java's BigInteger.toByteArray(): the shortest big-endian two's complement.
CREATE FUNCTION dbz_twos(n bigint) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    b bytea := int8send(n);
BEGIN
    WHILE length(b) > 1 AND ((get_byte(b, 0) = 0 AND get_byte(b, 1) < 128) OR
                             (get_byte(b, 0) = 255 AND get_byte(b, 1) >= 128)) LOOP
        b := substring(b FROM 2);
    END LOOP;
    RETURN b;
END $$;

-- A column's value (v from to_jsonb(row)) as Debezium writes it.
CREATE FUNCTION dbz_value(typ regtype, typmod int, v jsonb) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN v IS NULL OR v = 'null'::jsonb THEN 'null'::json
        WHEN typ = 'numeric'::regtype THEN
            to_json(encode(dbz_twos(trunc((v #>> '{}')::numeric *
                                          10::numeric ^ ((typmod - 4) & 65535))::bigint), 'base64'))
        WHEN typ = 'timestamp'::regtype THEN
            to_json((extract(epoch FROM (v #>> '{}')::timestamp) * 1000000)::bigint)
        ELSE v::json
    END
$$;

CREATE FUNCTION dbz_cols(rel regclass)
RETURNS TABLE (attnum int2, attname name, typ regtype, typmod int, notnull bool, is_key bool)
LANGUAGE sql STABLE AS $$
    SELECT a.attnum, a.attname, a.atttypid::regtype, a.atttypmod, a.attnotnull,
           EXISTS (SELECT 1 FROM pg_index i
                   WHERE i.indrelid = rel AND i.indisprimary AND a.attnum = ANY (i.indkey))
    FROM pg_attribute a
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
$$;

-- "pg_repl.<schema>.<table>" and "<schema>.<table>"
CREATE FUNCTION dbz_coll(rel regclass) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT n.nspname || '.' || c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel
$$;

-- A row (to_jsonb of it) as the before/after struct; key_only: only the
-- key columns (REPLICA IDENTITY DEFAULT's old tuple).
CREATE FUNCTION dbz_row(rel regclass, r jsonb, key_only bool) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_object_agg(c.attname, dbz_value(c.typ, c.typmod, r -> c.attname::text)
                           ORDER BY c.attnum)
    FROM dbz_cols(rel) c WHERE NOT key_only OR c.is_key
$$;

-- The Kafka key of a row ("null" for a table without primary key or r null).
CREATE FUNCTION dbz_key(rel regclass, r jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN r IS NULL OR count(*) = 0 THEN 'null' ELSE json_build_object(
        'schema', json_build_object(
            'type', 'struct',
            'fields', json_agg(dbz_field(c.typ, c.typmod, NOT c.notnull, c.attname)
                               ORDER BY c.attnum),
            'optional', false,
            'name', 'pg_repl.' || dbz_coll(rel) || '.Key'),
        'payload', json_object_agg(c.attname, dbz_value(c.typ, c.typmod, r -> c.attname::text)
                                   ORDER BY c.attnum))::text END
    FROM dbz_cols(rel) c WHERE c.is_key
$$;

CREATE FUNCTION dbz_envelope_schema(rel regclass) RETURNS json
LANGUAGE sql STABLE AS $$
    WITH v AS (
        SELECT json_agg(dbz_field(c.typ, c.typmod, NOT c.notnull, c.attname) ORDER BY c.attnum) AS f
        FROM dbz_cols(rel) c)
    SELECT json_build_object(
        'type', 'struct',
        'fields', json_build_array(
            json_build_object('type', 'struct', 'fields', v.f, 'optional', true,
                              'name', 'pg_repl.' || dbz_coll(rel) || '.Value', 'field', 'before'),
            json_build_object('type', 'struct', 'fields', v.f, 'optional', true,
                              'name', 'pg_repl.' || dbz_coll(rel) || '.Value', 'field', 'after'),
            json_build_object('type', 'struct', 'fields', json_build_array(
                    dbz_f('string', 'version', false), dbz_f('string', 'connector', false),
                    dbz_f('string', 'name', false), dbz_f('int64', 'ts_ms', false),
                    dbz_f('int64', 'ts_us', true), dbz_f('int64', 'ts_ns', true),
                    json_build_object('type', 'boolean', 'optional', true, 'default', false,
                                      'field', 'snapshot'),
                    dbz_f('string', 'db', false), dbz_f('string', 'sequence', true),
                    dbz_f('string', 'schema', false), dbz_f('string', 'table', false),
                    dbz_f('int64', 'txId', true), dbz_f('int64', 'lsn', true),
                    dbz_f('int64', 'xmin', true)),
                'optional', false, 'name', 'io.debezium.connector.postgresql.Source',
                'field', 'source'),
            dbz_f('string', 'op', false),
            dbz_f('int64', 'ts_ms', true), dbz_f('int64', 'ts_us', true),
            dbz_f('int64', 'ts_ns', true),
            json_build_object('type', 'struct', 'fields', json_build_array(
                    dbz_f('string', 'id', false), dbz_f('int64', 'total_order', false),
                    dbz_f('int64', 'data_collection_order', false)),
                'optional', true, 'name', 'event.block', 'version', 1,
                'field', 'transaction')),
        'optional', false,
        'name', 'pg_repl.' || dbz_coll(rel) || '.Envelope',
        'version', 1)
    FROM v
$$;

-- A message of the transaction topic (status BEGIN or END).
CREATE FUNCTION dbz_txn_line(txn text, status text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT '@0' || E'\t' || json_build_object(
        'schema', json_build_object('type', 'struct', 'fields', json_build_array(
                dbz_f('string', 'id', false)),
            'optional', false, 'name', 'io.debezium.connector.common.TransactionMetadataKey'),
        'payload', json_build_object('id', txn))::text
    || E'\t' || json_build_object(
        'schema', json_build_object('type', 'struct', 'fields', json_build_array(
                dbz_f('string', 'status', false), dbz_f('string', 'id', false),
                dbz_f('int64', 'event_count', true),
                json_build_object('type', 'array', 'items', json_build_object(
                        'type', 'struct', 'fields', json_build_array(
                            dbz_f('string', 'data_collection', false),
                            dbz_f('int64', 'event_count', false)),
                        'optional', false),
                    'optional', true, 'field', 'data_collections'),
                dbz_f('int64', 'ts_ms', false)),
            'optional', false, 'name', 'io.debezium.connector.common.TransactionMetadataValue',
            'version', 1),
        'payload', json_build_object(
            'status', status,
            'id', txn,
            'ts_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
            'event_count', CASE WHEN status = 'END' THEN
                (SELECT count(*) FROM dbz_out WHERE dbz_out.txn = dbz_txn_line.txn
                                                AND coll IS NOT NULL) END,
            'data_collections', CASE WHEN status = 'END' THEN
                (SELECT json_agg(json_build_object('data_collection', coll,
                                                   'event_count', n) ORDER BY coll)
                 FROM (SELECT coll, count(*) AS n FROM dbz_out
                       WHERE dbz_out.txn = dbz_txn_line.txn AND coll IS NOT NULL
                       GROUP BY coll) s) END))::text
$$;

-- One change event of rel (before/after already shaped; key_row: the row
-- whose key the message has, NULL for none) into the outbox.
CREATE FUNCTION dbz_emit(rel regclass, op text, before json, after json, key_row jsonb,
                         snapshot bool) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t dbz_topics;
    k text := dbz_key(rel, key_row);
    now_us bigint := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    lsn bigint := pg_current_wal_insert_lsn() - '0/0'::pg_lsn;
    xid bigint := txid_current();
    cur_coll text := dbz_coll(rel);
    cur_txn text;
    tblock json;
BEGIN
    SELECT * INTO STRICT t FROM dbz_topics WHERE dbz_topics.rel = dbz_emit.rel;
    IF NOT snapshot THEN
        cur_txn := current_setting('dbz.txn', true);
        IF cur_txn IS NULL OR split_part(cur_txn, ':', 1) <> xid::text THEN
            cur_txn := xid || ':' || lsn;
            PERFORM set_config('dbz.txn', cur_txn, true);
            INSERT INTO dbz_out (topic, line, txn, status)
            VALUES ('pg_repl.transaction', dbz_txn_line(cur_txn, 'BEGIN'), cur_txn, 'BEGIN');
        END IF;
        tblock := json_build_object(
            'id', cur_txn,
            'total_order', 1 + (SELECT count(*) FROM dbz_out
                                WHERE dbz_out.txn = cur_txn AND dbz_out.coll IS NOT NULL),
            'data_collection_order', 1 + (SELECT count(*) FROM dbz_out
                                          WHERE dbz_out.txn = cur_txn
                                            AND dbz_out.coll = cur_coll));
    END IF;
    INSERT INTO dbz_out (topic, line, txn, coll) VALUES (t.topic,
        '@' || CASE WHEN k = 'null' THEN 0 ELSE abs(hashtext(k)) % t.parts END
        || E'\t' || k || E'\t' || json_build_object(
            'schema', dbz_envelope_schema(rel),
            'payload', json_build_object(
                'before', before,
                'after', after,
                'source', json_build_object(
                    'version', '2.5.0.Final', 'connector', 'postgresql', 'name', 'pg_repl',
                    'ts_ms', now_us / 1000, 'ts_us', now_us, 'ts_ns', now_us * 1000,
                    'snapshot', snapshot, 'db', current_database(),
                    'sequence', json_build_array(lsn::text, lsn::text)::text,
                    'schema', split_part(cur_coll, '.', 1), 'table', split_part(cur_coll, '.', 2),
                    'txId', xid, 'lsn', lsn, 'xmin', NULL),
                'op', op,
                'ts_ms', now_us / 1000, 'ts_us', now_us, 'ts_ns', now_us * 1000,
                'transaction', tblock))::text,
        cur_txn, cur_coll);
END $$;

CREATE FUNCTION dbz_tombstone(rel regclass, key_row jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t dbz_topics;
    k text := dbz_key(rel, key_row);
BEGIN
    IF k = 'null' THEN
        RETURN; -- no key, nothing to compact away
    END IF;
    SELECT * INTO STRICT t FROM dbz_topics WHERE dbz_topics.rel = dbz_tombstone.rel;
    INSERT INTO dbz_out (topic, line)
    VALUES (t.topic, '@' || abs(hashtext(k)) % t.parts || E'\t' || k || E'\tnull');
END $$;

CREATE FUNCTION dbz_row_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    full_identity bool := (SELECT relreplident = 'f' FROM pg_class WHERE oid = TG_RELID);
    o jsonb;
    n jsonb;
    ob json;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o := to_jsonb(OLD);
        ob := dbz_row(TG_RELID, o, NOT full_identity);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n := to_jsonb(NEW);
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM dbz_emit(TG_RELID, 'c', NULL, dbz_row(TG_RELID, n, false), n, false);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM dbz_emit(TG_RELID, 'd', ob, NULL, o, false);
        PERFORM dbz_tombstone(TG_RELID, o);
    ELSIF dbz_key(TG_RELID, o) <> dbz_key(TG_RELID, n) THEN
        PERFORM dbz_emit(TG_RELID, 'd', ob, NULL, o, false);
        PERFORM dbz_tombstone(TG_RELID, o);
        PERFORM dbz_emit(TG_RELID, 'c', NULL, dbz_row(TG_RELID, n, false), n, false);
    ELSE
        IF NOT full_identity AND coalesce(current_setting('dbz.update_before', true), '') <> 'key'
        THEN
            ob := NULL;
        END IF;
        PERFORM dbz_emit(TG_RELID, 'u', ob, dbz_row(TG_RELID, n, false), n, false);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION dbz_truncate_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dbz_emit(TG_RELID, 't', NULL, NULL, NULL, false);
    RETURN NULL;
END $$;

-- At commit: END for the transaction of each data event (once).
CREATE FUNCTION dbz_end_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.coll IS NOT NULL AND NEW.txn IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM dbz_out WHERE txn = NEW.txn AND status = 'END') THEN
        INSERT INTO dbz_out (topic, line, txn, status)
        VALUES ('pg_repl.transaction', dbz_txn_line(NEW.txn, 'END'), NEW.txn, 'END');
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER dbz_end AFTER INSERT ON dbz_out
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dbz_end_trigger();

CREATE FUNCTION dbz_capture(rel regclass, parts int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dbz_topics VALUES (rel, 'pg_repl.' || dbz_coll(rel), parts);
    EXECUTE format('CREATE TRIGGER dbz_row AFTER INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION dbz_row_trigger()', rel);
    EXECUTE format('CREATE TRIGGER dbz_truncate AFTER TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION dbz_truncate_trigger()', rel);
END $$;

CREATE FUNCTION dbz_snapshot(rel regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
BEGIN
    FOR r IN EXECUTE format('SELECT to_jsonb(t) FROM %s t', rel) LOOP
        PERFORM dbz_emit(rel, 'r', NULL, dbz_row(rel, r, false), r, true);
    END LOOP;
END $$;

-- The next n (NULL: all) lines of topic t not taken yet, in order; marks them taken.
CREATE FUNCTION dbz_take(t text, n int) RETURNS SETOF text
LANGUAGE sql AS $$
    WITH s AS (SELECT seq FROM dbz_out WHERE topic = t AND NOT taken ORDER BY seq LIMIT n),
         u AS (UPDATE dbz_out d SET taken = true FROM s WHERE d.seq = s.seq
               RETURNING d.seq, d.line)
    SELECT line FROM u ORDER BY seq
$$;
