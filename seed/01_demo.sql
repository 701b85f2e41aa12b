-- Development data: the people, organization, media and content the demo and the
-- README talk about. `codex-db seed` runs every seed/*.sql file in name order in one
-- transaction, on a migrated database; `codex-db reset` recreates the database,
-- migrates it and runs them. Keep these files idempotent (fixed keys and
-- ON CONFLICT DO NOTHING): running them twice leaves the same rows.

INSERT INTO users (id, name, email, email_verified) VALUES
    ('seed-user-jane', 'Jane Doe', 'jane@seed.example.com', true),
    ('seed-user-john', 'John Smith', 'john@seed.example.com', false)
ON CONFLICT DO NOTHING;

INSERT INTO organizations (id, name, slug, description, owner_id) VALUES
    ('5eed0000-0000-4000-8000-000000000001', 'Acme Inc', 'acme', 'A great company',
     'seed-user-jane')
ON CONFLICT DO NOTHING;

INSERT INTO media_items (id, creator_id, title, media_type, status, r2_key, duration_seconds,
                         uploaded_at) VALUES
    ('5eed0000-0000-4000-8000-000000000101', 'seed-user-jane', 'Welcome video file', 'video',
     'ready', 'seed/welcome.mp4', 95, '2026-01-05 10:00:00+00'),
    ('5eed0000-0000-4000-8000-000000000102', 'seed-user-jane', 'Podcast episode 1', 'audio',
     'uploading', 'seed/episode-1.mp3', NULL, NULL)
ON CONFLICT DO NOTHING;

INSERT INTO content (id, creator_id, organization_id, media_item_id, title, slug, description,
                     content_type, tags, visibility, price_cents, status, published_at) VALUES
    ('5eed0000-0000-4000-8000-000000000201', 'seed-user-jane',
     '5eed0000-0000-4000-8000-000000000001', '5eed0000-0000-4000-8000-000000000101',
     'Welcome Video', 'welcome', 'Start here', 'video', '["intro", "welcome"]', 'public', 0,
     'published', '2026-01-06 09:00:00+00'),
    ('5eed0000-0000-4000-8000-000000000202', 'seed-user-jane',
     '5eed0000-0000-4000-8000-000000000001', NULL,
     'Pricing, explained', 'pricing', NULL, 'written', '["guide"]', 'purchased_only', 499,
     'draft', NULL),
    ('5eed0000-0000-4000-8000-000000000203', 'seed-user-john', NULL,
     '5eed0000-0000-4000-8000-000000000102',
     'Episode 1', 'episode-1', 'Our first episode', 'audio', '[]', 'members_only', NULL,
     'draft', NULL)
ON CONFLICT DO NOTHING;
