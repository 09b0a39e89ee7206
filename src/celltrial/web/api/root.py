"""The NinjaAPI every router is added to, with its auth and the answers to refusals:
a message per field (422), 404 for what the user may not see, 403 for a role that may
not act, 409 with the fields changed since for a stale version."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer

from celltrial.registry.services.errors import Conflict, Forbidden, NotFound, Refused
from celltrial.registry.services.tokens import user_for_token

Error = dict[str, object]  # {"detail": ...}: a message, or one {field, message, value} each
ERRORS = {
    400: Error,
    401: Error,
    403: Error,
    404: Error,
    422: Error,
}  # every authenticated operation


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token[:200])  # tokens are 43 characters; ignore longer junk
        if user is not None:
            request.user = user
        return user


class RegistryApi(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts: list) -> ValidationError:
        """Ninja's errors without the value sent (it drops pydantic's `input`): each keeps
        it, shortened, to answer {field, message, value}."""
        error = super().validation_error_from_error_contexts(error_contexts)
        sent = [
            e.get("input")
            for context in error_contexts  # the same errors in the same order as Ninja's
            for e in context.pydantic_validation_error.errors(include_url=False)
        ]
        for e, value in zip(error.errors, sent, strict=True):
            secret = any("password" in str(part) for part in e.get("loc", ()))
            e["value"] = None if secret else _shown(value)  # a password is never echoed
        return error


api = RegistryApi(
    title="CellTrial registry",
    version="1",
    description="A live UC-MSC study: participants, consent, screening, lots, infusions, "
    "visits, measurements, medications, adverse events, data queries and the audit trail.",
    auth=BearerToken(),
    urls_namespace="api",
    docs_url=None,  # the interactive page needs assets from a CDN; the document suffices
)


@api.exception_handler(Refused)
def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": [
                {"field": p.field, "message": p.message, "value": p.value} for p in exc.problems
            ]
        },
        status=422,
    )


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = [
        {
            "field": _field_name(tuple(e.get("loc", ()))),
            "message": e.get("msg", "invalid"),
            "value": e.get("value"),
        }
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


SHOWN_CHARS = 200  # a refused value is echoed up to this length, not a 2 MB string back


def _shown(value: object) -> str | None:
    """The value sent, as text (None for a missing field or a whole object or list)."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text)} characters)"


def _field_name(loc: tuple) -> str | None:
    """("body", "body", "value") -> "value"; ("query", "limit") -> "limit"."""
    parts = loc[2:] if loc[:1] == ("body",) else loc[1:]
    return ".".join(str(p) for p in parts) or None


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=404)


@api.exception_handler(Forbidden)
def _forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    changed = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in exc.changed.items()}
    body = {"detail": str(exc), "version": exc.current_version, "changed": changed}
    return api.create_response(request, body, status=409)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "send Authorization: Bearer TOKEN (POST /api/auth/token)"}, status=401
    )
