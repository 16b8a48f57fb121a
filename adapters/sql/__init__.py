"""The SQL adapter: SQLAlchemy Core on SQLite (embedded) and PostgreSQL (production).

Public entry points live in `adapters.sql.database`.
"""
