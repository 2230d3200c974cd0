"""Abonent's services: contracts, projections, tickets, notifier."""
