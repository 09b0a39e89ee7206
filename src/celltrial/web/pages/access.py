"""The study a page acts in, checked as the API checks it: a study the user is not a
member of, or a participant of another site, is answered 404 as if it did not exist."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from celltrial.registry.models import Membership, Participant
from celltrial.registry.models.study import READERS
from celltrial.registry.services.access import membership, require_role, visible_participants
from celltrial.registry.services.errors import Forbidden, NotFound


def study_page(view: Callable) -> Callable:
    """A logged-in page of one study: view(request, member, **kwargs)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, study_id: str, **kwargs) -> HttpResponse:
        try:
            member = membership(request.user, study_id)
            return view(request, member, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc

    return wrapped


def participant_of(member: Membership, participant_id: str) -> Participant:
    require_role(member, READERS, "read participants")
    found = visible_participants(member).filter(participant_id=participant_id).first()
    if found is None:
        raise NotFound(f"no participant {participant_id!r}")
    return found
