-- idx_content_published_at is redundant: published content is served by the
-- partial idx_content_published_keyset, the listing by idx_content_listing.
-- The planner could pick it for the first page of published content and walk
-- every unpublished row's NULL first.
-- transactional: false
-- depends: 0005.published-has-date

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY idx_content_published_at;
