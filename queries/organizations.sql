-- name: CreateOrganization :one
-- Create an organization; its slug is unique.
INSERT INTO organizations (name, slug, description, logo_url, website_url, owner_id)
VALUES (
    @name, @slug, sqlc.narg(description), sqlc.narg(logo_url), sqlc.narg(website_url),
    sqlc.narg(owner_id)
)
RETURNING *;

-- name: GetOrganization :one
-- An active organization by id.
SELECT * FROM organizations
WHERE id = @id AND deleted_at IS NULL;

-- name: GetOrganizationBySlug :one
-- An active organization by slug.
SELECT * FROM organizations
WHERE slug = @slug AND deleted_at IS NULL;

-- name: UpdateOrganization :one
-- Change an active organization; a NULL argument keeps the current value.
UPDATE organizations
SET name = coalesce(sqlc.narg(name), name),
    slug = coalesce(sqlc.narg(slug), slug),
    description = coalesce(sqlc.narg(description), description),
    logo_url = coalesce(sqlc.narg(logo_url), logo_url),
    website_url = coalesce(sqlc.narg(website_url), website_url)
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: SoftDeleteOrganization :execrows
-- Soft-delete an organization; a trigger unpublishes its published content.
UPDATE organizations SET deleted_at = now()
WHERE id = @id AND deleted_at IS NULL;

-- name: RestoreOrganization :execrows
-- Undo a soft delete (content unpublished by it stays unpublished).
UPDATE organizations SET deleted_at = NULL
WHERE id = @id AND deleted_at IS NOT NULL;

-- name: ListOrganizations :many
-- Organizations by name. To search names, use SearchOrganizations.
SELECT * FROM organizations
WHERE (deleted_at IS NULL OR @include_deleted::boolean)
ORDER BY name, id
LIMIT @max_rows OFFSET @skip_rows;

-- name: SearchOrganizations :many
-- Organizations whose name contains search, ignoring case, with % _ and \
-- matched literally, by name. The matches are found first (the trigram index)
-- and then sorted, as in SearchContent.
WITH organizations AS MATERIALIZED (
    -- named after the table it reads, so the rows are models.Organization
    SELECT * FROM organizations
    WHERE (deleted_at IS NULL OR @include_deleted::boolean)
      AND name ILIKE '%' || replace(replace(replace(@search::text, '\', '\\'), '%', '\%'), '_', '\_') || '%'
)
SELECT * FROM organizations
ORDER BY name, id
LIMIT @max_rows OFFSET @skip_rows;

-- name: ListOrganizationsWithPublishedContent :many
-- Active organizations among ids, by name, each with its published content,
-- newest first (an empty list when it has none).
-- group: content = c
SELECT sqlc.embed(o), sqlc.embed(c)
FROM organizations o
LEFT JOIN content c
       ON c.organization_id = o.id AND c.status = 'published' AND c.deleted_at IS NULL
WHERE o.id = ANY(@ids::uuid[]) AND o.deleted_at IS NULL
ORDER BY o.name, o.id, c.published_at DESC, c.id DESC;
