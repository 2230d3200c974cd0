-- The retry schedule, kept in the delivery log (issue 15). A temporary SMTP failure used to
-- be retried inside the consumer, which held its partition 130-610 s per event (one recipient
-- answering 4xx delayed every reminder behind it), and `POST /notifications/{id}/retry` ran
-- as a background task a restart forgot. Now a pending delivery with next_attempt_at is on
-- the schedule: the consumer has moved on, and the retry worker of any replica sends it when
-- it is due (claiming the row as before, so still exactly once). NULL: not on the schedule
-- (the consumer's first attempt, or settled).
ALTER TABLE deliveries ADD COLUMN next_attempt_at timestamptz;
CREATE INDEX deliveries_retry_due_idx ON deliveries (next_attempt_at)
  WHERE status = 'pending' AND next_attempt_at IS NOT NULL;
