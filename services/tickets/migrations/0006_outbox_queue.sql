-- The outbox is a queue (issue 20): each row is inserted once and deleted by the relay within
-- milliseconds, so the table is small and its dead rows many. With the default autovacuum
-- settings a vacuum waits for dead rows worth 20 % of the table's size as last measured, which
-- after a large drain (9.1 million rows at docs/design.md §7 scale) is millions of dead rows:
-- the relay's `ORDER BY id LIMIT n` then walks their dead index entries until a vacuum has
-- cleaned them. Here a vacuum (and an analyze, so the planner keeps knowing it is small) runs
-- after a fixed number of changed rows whatever the size, without the cost-based pauses.
-- ALTER TABLE … SET takes SHARE UPDATE EXCLUSIVE: appends and the relay go on meanwhile.
ALTER TABLE outbox SET (
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_insert_scale_factor = 0,
  autovacuum_vacuum_insert_threshold = 10000,
  autovacuum_analyze_scale_factor = 0,
  autovacuum_analyze_threshold = 10000,
  autovacuum_vacuum_cost_delay = 0
);
