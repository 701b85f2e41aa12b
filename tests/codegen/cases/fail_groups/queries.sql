-- name: NotMany :one
-- group: posts = p
SELECT sqlc.embed(o), sqlc.embed(p)
FROM organizations o LEFT JOIN posts p ON p.organization_id = o.id
WHERE o.id = @id;

-- name: Malformed :many
-- group: posts
SELECT sqlc.embed(o), sqlc.embed(p)
FROM organizations o LEFT JOIN posts p ON p.organization_id = o.id;

-- name: TwoGroups :many
-- group: posts = p
-- group: members = m
SELECT sqlc.embed(o), sqlc.embed(p), sqlc.embed(m)
FROM organizations o
LEFT JOIN posts p ON p.organization_id = o.id
LEFT JOIN memberships m ON m.org_id = o.id;

-- name: UnknownEmbed :many
-- group: posts = x
SELECT sqlc.embed(o), sqlc.embed(p)
FROM organizations o LEFT JOIN posts p ON p.organization_id = o.id;

-- name: NoEmbeds :many
-- group: posts = p
SELECT o.id, p.title
FROM organizations o LEFT JOIN posts p ON p.organization_id = o.id;

-- name: NoParentKey :many
-- group: grants = g
SELECT sqlc.embed(m), sqlc.embed(g)
FROM memberships m LEFT JOIN grants g ON g.org_id = m.org_id AND g.member = m.member;

-- name: NullableKey :many
-- group: posts = p by settings
SELECT sqlc.embed(o), sqlc.embed(p)
FROM organizations o LEFT JOIN posts p ON p.organization_id = o.id;

-- name: ParentOnOuterSide :many
-- group: organizations = o
SELECT sqlc.embed(p), sqlc.embed(o)
FROM posts p RIGHT JOIN organizations o ON o.id = p.organization_id;

-- name: OnlyChild :many
-- group: posts = p
SELECT sqlc.embed(p) FROM posts p;

-- name: FieldTaken :many
-- group: organization = p
SELECT sqlc.embed(o), sqlc.embed(p)
FROM organizations o LEFT JOIN posts p ON p.organization_id = o.id;

-- name: BadField :many
-- group: class = p
SELECT sqlc.embed(o), sqlc.embed(p)
FROM organizations o LEFT JOIN posts p ON p.organization_id = o.id;

-- name: ChildWithoutNotNull :many
-- group: labels = l
SELECT sqlc.embed(o), sqlc.embed(l)
FROM organizations o LEFT JOIN labels l ON l.organization_id = o.id;

-- name: AmbiguousChild :many
-- group: posts = posts
SELECT sqlc.embed(o), sqlc.embed(p1), sqlc.embed(p2)
FROM organizations o
LEFT JOIN posts p1 ON p1.organization_id = o.id
LEFT JOIN posts p2 ON p2.id = p1.id;

-- name: KeyTwice :many
-- group: posts = p
SELECT o.id, sqlc.embed(o), sqlc.embed(p)
FROM organizations o LEFT JOIN posts p ON p.organization_id = o.id;
