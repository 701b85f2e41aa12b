-- Exactly one row: the functions return the row, not Row | None.

-- name: CreateItem :one
INSERT INTO items (name, score) VALUES (@name, sqlc.narg(score))
RETURNING *;

-- name: CreateItemId :one
-- A single RETURNING column is a scalar.
INSERT INTO items AS i (name) VALUES (@name) RETURNING i.id;

-- name: UpsertItem :one
-- DO UPDATE without WHERE inserts or updates: one row either way.
INSERT INTO items (name, score) VALUES (@name, sqlc.narg(score))
ON CONFLICT (name) DO UPDATE SET score = excluded.score
RETURNING *;

-- name: StartCounter :one
INSERT INTO counters DEFAULT VALUES RETURNING id, started_at;

-- name: CreateGuarded :one
-- Its trigger may skip the row: the function raises then.
INSERT INTO guarded (name) VALUES (@name) RETURNING *;

-- name: CreateCell :one
-- The parameter "row" pushes the local variable to "row_".
INSERT INTO cells ("row", col) VALUES (@row, @col) RETURNING *;

-- name: CountItems :one
SELECT count(*) FROM items WHERE score >= @min_score;

-- name: CountUnscored :one
SELECT count(*) FILTER (WHERE score IS NULL) AS unscored FROM items;

-- name: ItemStats :one
-- count() is never NULL; the other aggregates are NULL over no rows.
SELECT count(*) AS n,
       count(score) AS scored,
       sum(score) AS total,
       max(created_at)::timestamptz AS latest,
       avg(score)::float8 AS mean,
       bool_and(score > 0) AS all_positive,
       array_agg(id ORDER BY id)::bigint[] AS ids,
       string_agg(name, ',' ORDER BY name)::text AS names,
       1 AS version
FROM items
WHERE created_at <= now();

-- name: Ping :one
-- No FROM: a SELECT of constants is one row.
SELECT 1 AS ok;

-- name: NameTaken :one
SELECT EXISTS (SELECT 1 FROM items WHERE name = @name) AS taken;

-- name: EchoNext :one
-- (sqlc 1.31 fails on "@n::int + 1" without FROM: relation "" does not exist.)
SELECT @label::text AS label, 1 + 1 AS two, now() AS at;

-- name: TopScore :one
-- A scalar subquery finds no row as NULL: the row exists, the value may be None.
SELECT (SELECT max(score) FROM items)::int AS top;

-- name: MaxScore :one
-- The row always exists; None means max() is NULL (no scored items).
SELECT max(score)::int FROM items;

-- Not proven: Row | None, as before.

-- name: InsertItemIfNew :one
INSERT INTO items (name) VALUES (@name) ON CONFLICT DO NOTHING RETURNING id;

-- name: UpsertItemIfUnscored :one
INSERT INTO items (name, score) VALUES (@name, @score)
ON CONFLICT (name) DO UPDATE SET score = excluded.score WHERE items.score IS NULL
RETURNING *;

-- name: CopyItem :one
INSERT INTO items (name, score)
SELECT @new_name, src.score FROM items AS src WHERE src.name = @name
RETURNING id;

-- name: CreateTwoItems :one
INSERT INTO items (name) VALUES (@first), (@second) RETURNING id;

-- name: CreateItemWithCte :one
WITH src AS (SELECT @name::text AS name)
INSERT INTO items (name) SELECT name FROM src RETURNING id;

-- name: RescoreItem :one
UPDATE items SET score = @score WHERE name = @name RETURNING *;

-- name: DeleteItem :one
DELETE FROM items WHERE name = @name RETURNING id;

-- name: CountItemsNamed :one
SELECT count(*) FROM items WHERE name = @name GROUP BY name;

-- name: CountItemsIfMany :one
SELECT count(*) FROM items HAVING count(*) > @at_least::bigint;

-- name: CountItemsPaged :one
SELECT count(*) FROM items OFFSET @skip_rows;

-- name: CountItemsAndCounters :one
SELECT count(*) FROM items UNION ALL SELECT count(*) FROM counters;

-- name: CountItemsCte :one
WITH scored AS (SELECT * FROM items WHERE score IS NOT NULL)
SELECT count(*) FROM scored;

-- name: TotalScore :one
-- coalesce() is a scalar function whose argument is an aggregate: one row.
SELECT coalesce(sum(score), 0)::bigint AS total FROM items;

-- name: RankedCount :one
SELECT name, count(*) OVER () AS total FROM items WHERE name = @name;

-- name: ItemExists :one
SELECT true AS found FROM items WHERE name = @name;

-- name: SeriesFirst :one
-- generate_series() returns a set: a SELECT of it may be no row.
SELECT generate_series(1, @n::int)::int AS n;

-- name: PingIf :one
SELECT 1 AS ok WHERE @really::bool;
