-- One database per service (each owns its data; docs/architecture.md). Runs once, on an empty volume.
CREATE DATABASE abonent_contracts OWNER abonent;
CREATE DATABASE abonent_projections OWNER abonent;
CREATE DATABASE abonent_tickets OWNER abonent;
CREATE DATABASE abonent_notifier OWNER abonent;
