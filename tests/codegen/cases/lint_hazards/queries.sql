-- name: Tabbed :many
-- Indented with tabs:	the constant keeps them; an en dash – and a NBSP too.
SELECT id, note
FROM i
	WHERE id > @after
  	AND note <> '–'
ORDER BY id;

-- name: Test :one
SELECT id, m FROM i WHERE id = sqlc.narg(id);

-- name: TestMood :many
-- An order key ruff would take for a password (S105) as an enum member.
-- order: token = id
-- order: note = note, id
SELECT id FROM i WHERE m = sqlc.narg(m) ORDER BY id;

-- name: AddI :exec
INSERT INTO i (id, m, kind, note) VALUES (@id, @m, @kind, @note);
