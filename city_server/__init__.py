"""The city tier (issue #16): every hall of a city forwards its records here; PostgreSQL."""
