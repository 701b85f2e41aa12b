-- name: AddOddity :exec
INSERT INTO oddities (
    id, c_tid, c_xid, c_xid8, c_cid, c_regclass, c_regtype, c_regrole, c_jsonpath, c_aclitem,
    c_oidvector, c_xid8_array
) VALUES (
    @id, @c_tid, @c_xid, @c_xid8, @c_cid, @c_regclass, @c_regtype, @c_regrole, @c_jsonpath,
    @c_aclitem, @c_oidvector, @c_xid8_array
);

-- name: GetOddity :one
SELECT * FROM oddities WHERE id = @id;

-- name: Locations :many
SELECT c_tid, c_xid8 FROM oddities WHERE c_tid > @after::tid ORDER BY c_tid;

-- name: CurrentXid :one
SELECT pg_current_xact_id();
