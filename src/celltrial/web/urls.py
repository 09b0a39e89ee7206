"""URLs: the JSON API under /api/ (OpenAPI document at /api/openapi.json)."""

from django.urls import include, path

from celltrial.web.api import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("celltrial.web.pages.urls")),  # registry pages (issue 12)
]
