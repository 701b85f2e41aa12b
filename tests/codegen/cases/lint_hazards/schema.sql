-- Names and text that ruff rejects when copied into Python as they are.
CREATE TYPE mood AS ENUM ('o', 'i', 'l', 'ok', 'password', 'a–b', 'quote"d', 'back\slash');
CREATE TYPE o AS ENUM ('x');
-- Classes named like what generated code imports: Range, Decimal.
CREATE TYPE range AS ENUM ('low', 'high');
CREATE TABLE decimals (
    id bigint PRIMARY KEY,
    amount numeric NOT NULL,
    band range
);
CREATE TABLE i (
    id bigint PRIMARY KEY,
    m mood,
    kind o,
    note text
);
