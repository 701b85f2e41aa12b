-- Built-in types psycopg returns as text (it has no loader for them).
CREATE TABLE oddities (
    id integer PRIMARY KEY,
    c_tid tid NOT NULL,
    c_xid xid,
    c_xid8 xid8,
    c_cid cid,
    c_regclass regclass,
    c_regtype regtype,
    c_regrole regrole,
    c_jsonpath jsonpath,
    c_aclitem aclitem,
    c_oidvector oidvector,
    c_xid8_array xid8[]
);
