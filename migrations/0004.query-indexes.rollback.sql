-- Rollback of 0004.query-indexes: one statement per forward statement, in reverse order.

DROP INDEX CONCURRENTLY idx_content_title_trgm;

DROP INDEX CONCURRENTLY idx_content_listing;

DROP INDEX CONCURRENTLY idx_content_published_keyset;

CREATE INDEX CONCURRENTLY idx_media_items_creator_id ON media_items (creator_id);

DROP INDEX CONCURRENTLY idx_media_items_creator_status_created;

DROP INDEX CONCURRENTLY idx_organizations_name_trgm;

DROP INDEX CONCURRENTLY idx_organizations_name;

DROP EXTENSION IF EXISTS pg_trgm;
