from alembic import context

from services.common.migrations import run_env
from services.interchange.tables import metadata

run_env(context, metadata)
