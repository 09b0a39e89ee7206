"""The JSON API (django-ninja): one router per resource, mounted on one NinjaAPI."""

from celltrial.web.api.root import api

__all__ = ["api"]
