from alembic import context

from services.common.migrations import run_env
from services.docs.tables import metadata

run_env(context, metadata)
