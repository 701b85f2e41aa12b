-- Indexes for the named queries in queries/: trigram search, keyset
-- pagination of published content, the content listing order, ready media.
-- Built CONCURRENTLY so live tables keep taking writes: yoyo runs each
-- statement on its own, outside a transaction.
-- transactional: false
-- depends: 0003.triggers

-- squawk-ignore require-lock-timeout -- creating an extension locks no user table
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX CONCURRENTLY idx_organizations_name ON organizations (name, id);

CREATE INDEX CONCURRENTLY idx_organizations_name_trgm ON organizations USING gin (name gin_trgm_ops);

CREATE INDEX CONCURRENTLY idx_media_items_creator_status_created
    ON media_items (creator_id, status, created_at DESC, id DESC);

DROP INDEX CONCURRENTLY idx_media_items_creator_id;

CREATE INDEX CONCURRENTLY idx_content_published_keyset ON content (published_at, id)
    WHERE status = 'published' AND deleted_at IS NULL;

CREATE INDEX CONCURRENTLY idx_content_listing
    ON content (published_at DESC NULLS LAST, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

CREATE INDEX CONCURRENTLY idx_content_title_trgm ON content USING gin (title gin_trgm_ops);
