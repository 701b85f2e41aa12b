-- Names and text that ruff rejects when copied into Python as they are.
CREATE TYPE mood AS ENUM ('o', 'i', 'l', 'ok', 'password', 'a–b', 'quote"d', 'back\slash');
CREATE TYPE o AS ENUM ('x');
CREATE TABLE i (
    id bigint PRIMARY KEY,
    m mood,
    kind o,
    note text
);
