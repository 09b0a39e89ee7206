"""The login form: Django's, with the same lockout as the API's token login (services.tokens:
five failures lock the account for a while)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from celltrial.registry.models import LoginLock
from celltrial.registry.services import tokens


class LoginForm(AuthenticationForm):
    def clean(self) -> dict:
        username = self.cleaned_data.get("username") or ""
        now = dt.datetime.now()
        lock = LoginLock.objects.filter(username=username).first()
        if lock and lock.locked_until and lock.locked_until > now:
            raise forms.ValidationError(
                "too many failed logins: the account is locked for a while", code="locked"
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            tokens.record_failed_login(username, now)  # the API's one failure counter
            raise
        LoginLock.objects.filter(username=username).delete()
        return cleaned
