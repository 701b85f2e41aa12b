CREATE SCHEMA billing;
CREATE TYPE billing.invoice_status AS ENUM ('draft', 'open', 'paid');

CREATE TABLE authors (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    bio jsonb
);

CREATE TABLE billing.invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id uuid REFERENCES authors (id),
    status billing.invoice_status NOT NULL DEFAULT 'draft',
    total numeric(12, 2) NOT NULL
);

CREATE TABLE events (
    author_id uuid,
    kind text NOT NULL,
    payload jsonb,
    at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tags (
    name text NOT NULL,
    weight integer NOT NULL
);
