-- The change feed's group lookup reads `events` only by its key indexes. A session caches the
-- function's generic plan; one planned while `events` was small (a first cycle, 100 rows per
-- provider) scanned the whole table on every later statement that wrote events, however large
-- the table had grown: 5-20 ms of PostgreSQL CPU per statement at 30,000-100,000 rows. The
-- lookup is by key, so an index is right for any table size and any number of keys; the setting
-- holds only while the function runs (packages/db/test/change-group.lookup.test.ts).
ALTER FUNCTION "marquee_canonical_group_members"(TEXT[], TEXT[]) SET enable_seqscan = off;
