CREATE DOMAIN email_address AS text;
CREATE TABLE items (id bigserial PRIMARY KEY, email email_address NOT NULL);
