-- Content tables: creator organizations, uploaded media (stored in R2) and
-- the content items built on them. All three are soft-deleted (deleted_at).

-- Trigram indexes make the ILIKE '%term%' searches of queries/ use an index.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE organizations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL,
    slug text NOT NULL,
    description text,
    logo_url text,
    website_url text,
    owner_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CONSTRAINT organizations_pkey PRIMARY KEY (id),
    CONSTRAINT organizations_slug_unique UNIQUE (slug),
    CONSTRAINT organizations_owner_id_users_id_fk FOREIGN KEY (owner_id)
        REFERENCES users (id) ON DELETE SET NULL
);

CREATE INDEX idx_organizations_owner_id ON organizations (owner_id);
CREATE INDEX idx_organizations_name ON organizations (name, id);
CREATE INDEX idx_organizations_name_trgm ON organizations USING gin (name gin_trgm_ops);

CREATE TABLE media_items (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    creator_id text NOT NULL,
    title text NOT NULL,
    description text,
    media_type text NOT NULL,
    status text NOT NULL DEFAULT 'uploading',
    r2_key text NOT NULL,
    file_size_bytes bigint,
    mime_type text,
    duration_seconds integer,
    width integer,
    height integer,
    hls_master_playlist_key text,
    thumbnail_key text,
    uploaded_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CONSTRAINT media_items_pkey PRIMARY KEY (id),
    CONSTRAINT media_items_creator_id_users_id_fk FOREIGN KEY (creator_id)
        REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT check_media_type CHECK (media_type IN ('video', 'audio')),
    CONSTRAINT check_media_status
        CHECK (status IN ('uploading', 'uploaded', 'transcoding', 'ready', 'failed'))
);

-- Also serves lookups by creator_id alone (the foreign key).
CREATE INDEX idx_media_items_creator_status_created
    ON media_items (creator_id, status, created_at DESC, id DESC);
CREATE INDEX idx_media_items_status ON media_items (status);

CREATE TABLE content (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    creator_id text NOT NULL,
    organization_id uuid,
    media_item_id uuid,
    title text NOT NULL,
    slug text NOT NULL,
    description text,
    content_type text NOT NULL,
    thumbnail_url text,
    content_body text,
    category text,
    tags jsonb NOT NULL DEFAULT '[]'::jsonb,
    visibility text NOT NULL DEFAULT 'purchased_only',
    price_cents integer,
    status text NOT NULL DEFAULT 'draft',
    published_at timestamptz,
    view_count integer NOT NULL DEFAULT 0,
    purchase_count integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CONSTRAINT content_pkey PRIMARY KEY (id),
    CONSTRAINT content_creator_id_users_id_fk FOREIGN KEY (creator_id)
        REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT content_organization_id_organizations_id_fk FOREIGN KEY (organization_id)
        REFERENCES organizations (id) ON DELETE SET NULL,
    CONSTRAINT content_media_item_id_media_items_id_fk FOREIGN KEY (media_item_id)
        REFERENCES media_items (id) ON DELETE SET NULL,
    CONSTRAINT check_content_status CHECK (status IN ('draft', 'published', 'archived')),
    CONSTRAINT check_content_visibility
        CHECK (visibility IN ('public', 'private', 'members_only', 'purchased_only')),
    CONSTRAINT check_content_type CHECK (content_type IN ('video', 'audio', 'written')),
    CONSTRAINT check_price_non_negative CHECK (price_cents >= 0),
    CONSTRAINT check_content_tags_array CHECK (jsonb_typeof(tags) = 'array'),
    -- Keyset pagination orders published content by (published_at, id): a
    -- published row without a date would fall out of every page.
    CONSTRAINT check_published_has_date CHECK (status <> 'published' OR published_at IS NOT NULL)
);

-- A slug is unique within its organization, and within a creator's
-- personal space (content without an organization).
CREATE UNIQUE INDEX idx_unique_content_slug_per_org ON content (organization_id, slug)
    WHERE organization_id IS NOT NULL;
CREATE UNIQUE INDEX idx_unique_content_slug_personal ON content (creator_id, slug)
    WHERE organization_id IS NULL;

-- A creator's and an organization's content in the listing order: ListContent
-- filtered by either reads one index range, whatever the planner estimates
-- (a rare organization walked idx_content_listing through 1M rows). They
-- also serve the foreign keys' lookups.
CREATE INDEX idx_content_creator_listing
    ON content (creator_id, published_at DESC NULLS LAST, created_at DESC, id DESC);
CREATE INDEX idx_content_organization_listing
    ON content (organization_id, published_at DESC NULLS LAST, created_at DESC, id DESC);
CREATE INDEX idx_content_media_item_id ON content (media_item_id);
CREATE INDEX idx_content_status ON content (status);
CREATE INDEX idx_content_category ON content (category);
-- ListContent's content_type filter: a rare type must not scan the table.
CREATE INDEX idx_content_content_type ON content (content_type);
-- Published content newest first, and its keyset pagination on (published_at, id).
CREATE INDEX idx_content_published_keyset ON content (published_at, id)
    WHERE status = 'published' AND deleted_at IS NULL;
-- The default order of the filtered content listing.
CREATE INDEX idx_content_listing ON content (published_at DESC NULLS LAST, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX idx_content_title_trgm ON content USING gin (title gin_trgm_ops);
