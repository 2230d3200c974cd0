-- Late time events (issue 12, DESIGN §8): a reminder or debt notice emitted more than
-- ABONENT_LATE_EVENT_DAYS after its date is history, not news. It is recorded like any
-- notification, its deliveries with status 'skipped_late' (never sent), so GET /notifications
-- shows what was not mailed and why.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
  CHECK (status IN ('pending', 'sent', 'failed', 'dead', 'skipped_late'));
