"""Alembic environment: migrations run on the connection `store.open_store` hands over, inside its transaction."""

from alembic import context

from commsim.store.database import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
