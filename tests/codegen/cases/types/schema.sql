-- One column per PostgreSQL type family the plugin maps.
CREATE TYPE mood AS ENUM ('happy', 'sad', 'so-so', '24h');
CREATE SCHEMA extra;
CREATE TYPE extra.level AS ENUM ('low', 'high');

CREATE TABLE everything (
    id bigserial PRIMARY KEY,
    c_smallint smallint NOT NULL,
    c_integer integer NOT NULL,
    c_bigint bigint NOT NULL,
    c_real real NOT NULL,
    c_double double precision NOT NULL,
    c_numeric numeric(12, 2) NOT NULL,
    c_money money,
    c_bool boolean NOT NULL,
    c_text text NOT NULL,
    c_varchar varchar(20),
    c_char char(3),
    c_bytea bytea,
    c_uuid uuid,
    c_date date,
    c_time time,
    c_timetz time with time zone,
    c_timestamp timestamp,
    c_timestamptz timestamptz,
    c_interval interval,
    c_inet inet,
    c_cidr cidr,
    c_macaddr macaddr,
    c_json json,
    c_jsonb jsonb,
    c_int4range int4range,
    c_tstzrange tstzrange,
    c_mood mood,
    c_level extra.level NOT NULL DEFAULT 'low',
    c_text_array text[],
    c_int_matrix integer[][],
    c_mood_array mood[],
    c_uuid_array uuid[] NOT NULL DEFAULT '{}'
);
