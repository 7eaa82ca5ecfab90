"""The results database: SQLAlchemy tables, migrations, and every query of stored runs."""
