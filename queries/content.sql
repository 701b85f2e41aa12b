-- name: CreateContent :one
-- Create a content item (a draft unless status says otherwise).
INSERT INTO content (
    creator_id, organization_id, media_item_id, title, slug, description, content_type,
    thumbnail_url, content_body, category, tags, visibility, price_cents, status
) VALUES (
    @creator_id, sqlc.narg(organization_id), sqlc.narg(media_item_id), @title, @slug,
    sqlc.narg(description), @content_type, sqlc.narg(thumbnail_url), sqlc.narg(content_body),
    sqlc.narg(category), coalesce(sqlc.narg(tags)::jsonb, '[]'::jsonb),
    coalesce(sqlc.narg(visibility)::text, 'purchased_only'), sqlc.narg(price_cents),
    coalesce(sqlc.narg(status)::text, 'draft')
)
RETURNING *;

-- name: GetContent :one
-- An active content item by id.
SELECT * FROM content
WHERE id = @id AND deleted_at IS NULL;

-- name: GetContentBySlugInOrganization :one
-- An organization's active content item by slug.
SELECT * FROM content
WHERE organization_id = @organization_id AND slug = @slug AND deleted_at IS NULL;

-- name: GetPersonalContentBySlug :one
-- A creator's active personal (organization-less) content item by slug.
SELECT * FROM content
WHERE creator_id = @creator_id AND organization_id IS NULL AND slug = @slug
  AND deleted_at IS NULL;

-- name: UpdateContent :one
-- Change an active content item; a NULL argument keeps the current value.
UPDATE content
SET title = coalesce(sqlc.narg(title), title),
    slug = coalesce(sqlc.narg(slug), slug),
    description = coalesce(sqlc.narg(description), description),
    thumbnail_url = coalesce(sqlc.narg(thumbnail_url), thumbnail_url),
    content_body = coalesce(sqlc.narg(content_body), content_body),
    category = coalesce(sqlc.narg(category), category),
    tags = coalesce(sqlc.narg(tags)::jsonb, tags),
    visibility = coalesce(sqlc.narg(visibility)::text, visibility),
    price_cents = coalesce(sqlc.narg(price_cents), price_cents),
    media_item_id = coalesce(sqlc.narg(media_item_id), media_item_id)
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: PublishContent :one
-- Publish: status 'published'; published_at keeps the first publication time.
UPDATE content
SET status = 'published', published_at = coalesce(published_at, now())
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: UnpublishContent :one
-- Back to draft.
UPDATE content SET status = 'draft', published_at = NULL
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: ArchiveContent :one
-- Archive: no longer listed, kept for buyers.
UPDATE content SET status = 'archived'
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: SoftDeleteContent :execrows
-- Soft-delete a content item.
UPDATE content SET deleted_at = now()
WHERE id = @id AND deleted_at IS NULL;

-- name: RestoreContent :execrows
-- Undo a soft delete.
UPDATE content SET deleted_at = NULL
WHERE id = @id AND deleted_at IS NOT NULL;

-- name: IncrementViewCount :one
-- Count one view atomically and return the new total.
UPDATE content SET view_count = view_count + 1
WHERE id = @id AND deleted_at IS NULL
RETURNING view_count;

-- name: ListPublishedContentWithRelations :many
-- Published content, newest first, with its creator and, when present, its
-- organization and media item (None when absent or soft-deleted).
SELECT sqlc.embed(content), sqlc.embed(users), sqlc.embed(organizations), sqlc.embed(media_items)
FROM content
JOIN users ON users.id = content.creator_id
LEFT JOIN organizations
       ON organizations.id = content.organization_id AND organizations.deleted_at IS NULL
LEFT JOIN media_items
       ON media_items.id = content.media_item_id AND media_items.deleted_at IS NULL
WHERE content.status = 'published' AND content.deleted_at IS NULL
ORDER BY content.published_at DESC, content.id DESC
LIMIT @max_rows;

-- name: ListContent :many
-- Content matching every filter that is not NULL, newest publication first
-- unless another order is chosen. To search titles, use SearchContent.
-- order: newest = published_at DESC NULLS LAST, created_at DESC, id DESC
-- order: oldest = published_at ASC NULLS LAST, created_at ASC, id ASC
-- order: title = lower(title), title, id
-- order: most_viewed = view_count DESC, published_at DESC NULLS LAST, id DESC
SELECT * FROM content
WHERE deleted_at IS NULL
  AND (sqlc.narg(organization_id)::uuid IS NULL OR organization_id = sqlc.narg(organization_id))
  AND (sqlc.narg(creator_id)::text IS NULL OR creator_id = sqlc.narg(creator_id))
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(content_type)::text IS NULL OR content_type = sqlc.narg(content_type))
  AND (sqlc.narg(category)::text IS NULL OR category = sqlc.narg(category))
ORDER BY published_at DESC NULLS LAST, created_at DESC, id DESC
LIMIT @max_rows OFFSET @skip_rows;

-- name: SearchContent :many
-- Content whose title contains search, ignoring case, with % _ and \ matched
-- literally, and matching every other filter that is not NULL; in the orders
-- of ListContent. The matches are found first (the trigram index) and then
-- sorted, so a search costs in proportion to its matches: walking the listing
-- order and filtering would read the whole table for a rare term.
-- order: newest = published_at DESC NULLS LAST, created_at DESC, id DESC
-- order: oldest = published_at ASC NULLS LAST, created_at ASC, id ASC
-- order: title = lower(title), title, id
-- order: most_viewed = view_count DESC, published_at DESC NULLS LAST, id DESC
WITH content AS MATERIALIZED (
    -- named after the table it reads, so the rows are models.Content
    SELECT * FROM content
    WHERE deleted_at IS NULL
      AND title ILIKE '%' || replace(replace(replace(@search::text, '\', '\\'), '%', '\%'), '_', '\_') || '%'
      AND (sqlc.narg(organization_id)::uuid IS NULL OR organization_id = sqlc.narg(organization_id))
      AND (sqlc.narg(creator_id)::text IS NULL OR creator_id = sqlc.narg(creator_id))
      AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
      AND (sqlc.narg(content_type)::text IS NULL OR content_type = sqlc.narg(content_type))
      AND (sqlc.narg(category)::text IS NULL OR category = sqlc.narg(category))
)
SELECT * FROM content
ORDER BY published_at DESC NULLS LAST, created_at DESC, id DESC
LIMIT @max_rows OFFSET @skip_rows;

-- name: CountContent :one
-- How many rows ListContent (or, with search, SearchContent) would return
-- without LIMIT and OFFSET.
SELECT count(*) FROM content
WHERE deleted_at IS NULL
  AND (sqlc.narg(organization_id)::uuid IS NULL OR organization_id = sqlc.narg(organization_id))
  AND (sqlc.narg(creator_id)::text IS NULL OR creator_id = sqlc.narg(creator_id))
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(content_type)::text IS NULL OR content_type = sqlc.narg(content_type))
  AND (sqlc.narg(category)::text IS NULL OR category = sqlc.narg(category))
  AND (
    sqlc.narg(search)::text IS NULL
    OR title ILIKE '%' || replace(replace(replace(sqlc.narg(search)::text, '\', '\\'), '%', '\%'), '_', '\_') || '%'
  );

-- name: ListPublishedContentFirstPage :many
-- The first page of published content in keyset order (newest first).
SELECT * FROM content
WHERE status = 'published' AND deleted_at IS NULL
ORDER BY published_at DESC, id DESC
LIMIT @max_rows;

-- name: ListPublishedContentAfter :many
-- The page after the row (after_published_at, after_id): stays fast however
-- deep, and skips nothing when rows are inserted meanwhile.
SELECT * FROM content
WHERE status = 'published' AND deleted_at IS NULL
  AND (published_at, id) < (@after_published_at::timestamptz, @after_id::uuid)
ORDER BY published_at DESC, id DESC
LIMIT @max_rows;

-- name: ImportContent :copyfrom
-- Bulk-load content rows with COPY.
INSERT INTO content (
    id, creator_id, organization_id, media_item_id, title, slug, description, content_type,
    thumbnail_url, content_body, category, tags, visibility, price_cents, status, published_at,
    view_count, purchase_count
) VALUES (
    @id, @creator_id, @organization_id, @media_item_id, @title, @slug, @description,
    @content_type, @thumbnail_url, @content_body, @category, @tags, @visibility, @price_cents,
    @status, @published_at, @view_count, @purchase_count
);
