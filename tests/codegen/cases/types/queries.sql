-- name: InsertEverything :one
INSERT INTO everything (
    c_smallint, c_integer, c_bigint, c_real, c_double, c_numeric, c_money, c_bool, c_text,
    c_varchar, c_char, c_bytea, c_uuid, c_date, c_time, c_timetz, c_timestamp, c_timestamptz,
    c_interval, c_inet, c_cidr, c_macaddr, c_json, c_jsonb, c_int4range, c_tstzrange, c_mood,
    c_level, c_text_array, c_int_matrix, c_mood_array, c_uuid_array
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
    $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32
)
RETURNING id;

-- name: GetEverything :one
SELECT * FROM everything WHERE id = @id;

-- name: ListEverything :many
SELECT * FROM everything ORDER BY id;

-- name: FindByMood :many
SELECT id, c_mood, c_level FROM everything
WHERE c_mood = sqlc.narg(mood) OR c_level = ANY(@levels::extra.level[]);

-- name: SetJsonb :execrows
UPDATE everything SET c_jsonb = @doc, c_json = sqlc.narg(plain) WHERE id = @id;

-- name: EchoJsonb :one
SELECT @doc::jsonb AS doc;

-- name: MoodArray :one
SELECT c_mood_array FROM everything WHERE id = @id;

-- name: Matrix :one
SELECT c_int_matrix, c_text_array FROM everything WHERE id = @id;

-- name: CopyEverything :copyfrom
-- A binary COPY: every type here has a binary dumper; enums are sent as text.
INSERT INTO everything (
    c_smallint, c_integer, c_bigint, c_real, c_double, c_numeric, c_bool, c_text, c_varchar,
    c_char, c_bytea, c_uuid, c_date, c_time, c_timetz, c_timestamp, c_timestamptz, c_interval,
    c_inet, c_cidr, c_json, c_jsonb, c_mood, c_level, c_text_array, c_int_matrix, c_uuid_array
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
    $21, $22, $23, $24, $25, $26, $27
);

-- name: CopyEverythingAsText :copyfrom
-- A text COPY: money, macaddr, ranges and enum arrays have no binary dumper.
INSERT INTO everything (
    c_smallint, c_integer, c_bigint, c_real, c_double, c_numeric, c_bool, c_text, c_money,
    c_macaddr, c_int4range, c_tstzrange, c_mood_array, c_jsonb, c_timestamptz
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15);
