"""Answers under /api/ are JSON, also those given before a route's own handlers run:
Django's 400 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, 404 for a path the API does not
have, 405 for a method a path does not take (the router answers these as HTML or text)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API = "/api/"


def _message(request: HttpRequest, response: HttpResponse) -> str:
    status = response.status_code
    if status == 404:
        return f"no such API path: {request.path} (the routes: /api/openapi.json)"
    if status == 405:
        return f"{request.method} is not allowed here; allowed: {response.get('Allow', '')}"
    sent = int(request.META.get("CONTENT_LENGTH") or 0)
    if status == 400 and sent > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return f"the body is {sent} bytes, over the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE}"
    return response.reason_phrase


class ApiErrorsAsJson:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        is_json = response.get("Content-Type", "").startswith("application/json")
        if not request.path.startswith(API) or response.status_code < 400 or is_json:
            return response
        answer = JsonResponse({"detail": _message(request, response)}, status=response.status_code)
        if response.has_header("Allow"):
            answer["Allow"] = response["Allow"]
        return answer
