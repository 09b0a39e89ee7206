"""URLs: the JSON API under /api/ (OpenAPI document at /api/openapi.json)."""

from django.urls import path

from celltrial.web.api import api

urlpatterns = [path("api/", api.urls)]
