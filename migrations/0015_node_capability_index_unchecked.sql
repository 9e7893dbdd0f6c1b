-- Node registry: node_capability_index without the seed's foreign key
-- (issue 19).
--
-- reducerd writes a node's capability rows in the same transaction as the
-- node's registered_nodes row, from that row's capabilities (the
-- contract's `lists:`), and never deletes a node row (deregistration is a
-- soft delete), so the key the foreign key checks is always there. The
-- check cost about 1 s of PostgreSQL time per 2 x 10^5 capability rows,
-- about a tenth of a registration storm's (bench/README.md). The contract
-- now owns this table (contracts/README.md "state", "Tables"), and the
-- table it derives has no foreign key either. Rows of a node deleted by
-- hand stay until its key is registered again or they are deleted too.
ALTER TABLE node_capability_index
    DROP CONSTRAINT IF EXISTS node_capability_index_node_id_fkey;
