-- name: CreateOrganization :one
INSERT INTO organizations (name, settings) VALUES (@name, @settings) RETURNING id;

-- name: CreatePost :one
INSERT INTO posts (organization_id, title, summary, meta, published)
VALUES (@organization_id, @title, @summary, @meta, @published)
RETURNING id;

-- name: CreateMembership :exec
INSERT INTO memberships (org_id, member, role) VALUES (@org_id, @member, @role);

-- name: CreateGrant :exec
INSERT INTO grants (org_id, member, scope) VALUES (@org_id, @member, @scope);

-- name: OrganizationsWithPublishedPosts :many
-- Organizations among ids, each with its published posts (an empty list when none).
-- posts.meta has a py_type override, so the child is built with Post.from_row.
-- group: posts = p
SELECT sqlc.embed(o), sqlc.embed(p)
FROM organizations o
LEFT JOIN posts p ON p.organization_id = o.id AND p.published
WHERE o.id = ANY(@ids::bigint[])
ORDER BY o.name, o.id, p.id;

-- name: OrganizationsWithPostCounts :many
-- Plain parent columns (and a count) next to the child; the child is named by its table.
-- group: posts = posts
SELECT organizations.id, organizations.name, sqlc.embed(posts),
       count(*) OVER (PARTITION BY organizations.id) AS n
FROM organizations
LEFT JOIN posts ON posts.organization_id = organizations.id
ORDER BY posts.id DESC;

-- name: PostsByOrganization :many
-- An inner join: only organizations with posts; the child list is never empty.
-- order: newest = p.id DESC
-- order: oldest = p.id
-- group: posts = p
SELECT sqlc.embed(o), sqlc.embed(p)
FROM organizations o
JOIN posts p ON p.organization_id = o.id
ORDER BY p.id DESC;

-- name: MembersWithGrants :many
-- A composite parent key named with 'by'.
-- group: grants = g by org_id, member
SELECT sqlc.embed(m), sqlc.embed(g)
FROM memberships m
LEFT JOIN grants g ON g.org_id = m.org_id AND g.member = m.member
ORDER BY m.org_id, m.member, g.scope;
