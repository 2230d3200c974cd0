"""The contracts service: clients, contracts, service periods, payments, time events."""
