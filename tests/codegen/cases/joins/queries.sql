-- name: CreateTeam :one
INSERT INTO teams (name) VALUES (@name) RETURNING id;

-- name: CreateUser :one
INSERT INTO users (name, team_id, manager_id)
VALUES (@name, sqlc.narg(team_id), sqlc.narg(manager_id))
RETURNING id;

-- name: CreatePost :one
INSERT INTO posts (author_id, title, summary) VALUES (@author_id, @title, @summary)
RETURNING *;

-- name: CreateInvoice :one
INSERT INTO billing.invoices (user_id, total) VALUES (@user_id, @total) RETURNING id;

-- name: PostsWithAuthors :many
-- Inner join (aliased): both embeds are never None.
SELECT sqlc.embed(p), sqlc.embed(u)
FROM posts p
INNER JOIN users u ON u.id = p.author_id
ORDER BY p.id;

-- name: PostsWithAuthorAndTeam :many
-- JOIN then LEFT JOIN: the post and author are present, the team may be None.
SELECT sqlc.embed(posts), sqlc.embed(users), sqlc.embed(teams)
FROM posts
JOIN users ON users.id = posts.author_id
LEFT OUTER JOIN teams
    ON teams.id = users.team_id
ORDER BY posts.id;

-- name: TeamsWithMembers :many
-- RIGHT JOIN: the teams are always present, the users and posts before it may be None.
SELECT sqlc.embed(p), sqlc.embed(u), sqlc.embed(t)
FROM posts AS p
LEFT JOIN users AS u ON u.id = p.author_id
RIGHT JOIN teams AS t ON t.id = u.team_id
ORDER BY t.id, p.id;

-- name: UsersFullTeams :many
-- FULL JOIN: either side may be None.
SELECT sqlc.embed(u), sqlc.embed(t)
FROM users u FULL OUTER JOIN teams t ON t.id = u.team_id
ORDER BY u.id, t.id;

-- name: InvoicesWithUsers :many
-- Schema-qualified, quoted and aliased tables; a comma join and a cross join.
SELECT sqlc.embed(inv), sqlc.embed(u), sqlc.embed(t)
FROM billing."invoices" AS "inv", public."users" u
CROSS JOIN teams t
WHERE u.id = "inv".user_id AND t.id = u.team_id
ORDER BY "inv".id;

-- name: UsersWithManagers :many
-- Self join: the user is present, the manager (LEFT JOIN) may be None.
SELECT sqlc.embed(u), sqlc.embed(m)
FROM users u
LEFT JOIN users m ON m.id = u.manager_id
ORDER BY u.id;

-- name: ManagersOfUsers :many
-- Self join, embeds in the other order: they are matched to their alias, so the
-- first (the manager) may be None and the second (the user) may not.
SELECT sqlc.embed(m), sqlc.embed(u)
FROM users u
LEFT JOIN users m ON m.id = u.manager_id
ORDER BY u.id;

-- name: PostsWithNestedJoin :many
-- Parenthesised joins are not parsed: every embed falls back to None-able.
SELECT sqlc.embed(p), sqlc.embed(u)
FROM posts p
JOIN (users u JOIN teams t ON t.id = u.team_id) ON u.id = p.author_id
ORDER BY p.id;

-- name: PostsWithSubquery :many
-- A subquery in FROM: not parsed, so the embed falls back to None-able.
SELECT sqlc.embed(p), c.n
FROM posts p
JOIN (SELECT author_id, count(*) AS n FROM posts GROUP BY author_id) c
    ON c.author_id = p.author_id
ORDER BY p.id;

-- name: SearchPosts :many
-- Optional filters: sqlc.narg parameters default to None.
SELECT id, title FROM posts
WHERE (sqlc.narg(title)::text IS NULL OR title = sqlc.narg(title))
  AND (sqlc.narg(author_id)::bigint IS NULL OR author_id = sqlc.narg(author_id))
  AND id > @after
ORDER BY id;
