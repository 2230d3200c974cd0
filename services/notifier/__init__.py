"""Notifier: e-mails the reminders and debt notices of contracts.schedule.v1, exactly once each."""
