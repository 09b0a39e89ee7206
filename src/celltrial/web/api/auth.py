"""POST /api/auth/token: a token for a username and password (locked after failures)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from celltrial.registry.services.tokens import LoginRefused, issue_token
from celltrial.web.api.root import api
from celltrial.web.api.schemas import Strict
from celltrial.web.api.types import LocalTime

router = Router(tags=["auth"])


class Login(Strict):
    username: str = Field(max_length=150, pattern=r"^[^\x00]*$")
    password: str = Field(max_length=4096, pattern=r"^[^\x00]*$")


class Token(Schema):
    token: str
    expires_at: LocalTime


class Refusal(Schema):
    detail: str


@router.post("/token", auth=None, response={200: Token, 400: dict, 401: Refusal, 422: dict})
def token(request: HttpRequest, body: Login):
    try:
        key, expires = issue_token(body.username, body.password)
    except LoginRefused as exc:
        return Status(401, {"detail": str(exc)})
    return Status(200, {"token": key, "expires_at": expires})


api.add_router("/auth", router)
