"""PostgreSQL access shared by the services: asyncpg pools and the migrations runner."""
