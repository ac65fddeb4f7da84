"""The storage service: `create_app` lists everything it serves."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide

from services.common.app_factory import Resources, build_app
from services.common.whoami import whoami
from services.storage.objects.controller import ObjectController, UsageController
from services.storage.objects.s3 import ObjectStore
from services.storage.objects.service import ObjectService
from services.storage.settings import StorageSettings, load


def create_app(settings: StorageSettings | None = None) -> Litestar:
    settings = settings or load()
    resources = Resources(settings)
    store = ObjectStore(settings)
    objects = ObjectService(resources.db, store, settings)

    async def provide_objects() -> ObjectService:
        return objects

    return build_app(
        settings,
        [whoami, ObjectController, UsageController],
        resources=resources,
        extra_checks={"s3": store.ping},
        dependencies={"objects": Provide(provide_objects)},
    )
