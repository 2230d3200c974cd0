-- Invoices (issue 17): InvoiceIssued is mailed (kind 'invoice') to the client's billing
-- address (role 'billing') with a copy to the manager.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
  CHECK (kind IN ('reminder', 'debt_notice', 'invoice'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_kind_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_kind_check
  CHECK (kind IN ('reminder', 'debt_notice', 'invoice'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_role_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_role_check
  CHECK (role IN ('manager', 'general', 'billing'));
