"""The JSON API (django-ninja): one router per resource, mounted on one NinjaAPI."""

from celltrial.web.api import (  # noqa: F401 (each module adds its routes to the api)
    auth,
    consents,
    protocol_checks,
    queries,
    studies,
    tables,
)
from celltrial.web.api.root import api

__all__ = ["api"]
