CREATE TABLE organizations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    settings jsonb
);

CREATE TABLE posts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint REFERENCES organizations (id),
    title text NOT NULL,
    summary text,
    meta jsonb NOT NULL,
    published boolean NOT NULL DEFAULT false
);

CREATE TABLE memberships (
    org_id bigint NOT NULL REFERENCES organizations (id),
    member text NOT NULL,
    role text,
    PRIMARY KEY (org_id, member)
);

CREATE TABLE grants (
    org_id bigint NOT NULL,
    member text NOT NULL,
    scope text NOT NULL,
    FOREIGN KEY (org_id, member) REFERENCES memberships (org_id, member)
);
