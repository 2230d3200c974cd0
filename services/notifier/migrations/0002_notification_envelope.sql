-- The envelope each notification came from, so `POST /notifications/{event_id}/retry` can
-- deliver a dead-lettered notification again without replaying Kafka. Nullable: rows
-- written before this column have none (those need a replay from the dead-letter topic).
ALTER TABLE notifications ADD COLUMN envelope jsonb;
