"""Django forms made from the one schema (celltrial.data.schema): a field per column of a
StudyData table, typed as the schema types it. The forms only parse what was typed; every
rule is checked by the services (writes.create_row), whose problems land beside their
field."""

from __future__ import annotations

import polars as pl
from django import forms

from celltrial.data.schema import TABLES
from celltrial.registry.models.consent import SCOPES
from celltrial.registry.services.errors import Problem

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
YES_NO = [("", "not answered"), ("true", "yes"), ("false", "no")]


def _field(dtype: pl.DataType, required: bool, help_text: str) -> forms.Field:
    common = {"required": required, "help_text": help_text}
    if dtype == pl.Date():
        return forms.DateField(widget=DATE, **common)
    if isinstance(dtype, pl.Datetime):
        return forms.DateTimeField(
            widget=DATETIME,
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
            **common,
        )
    if dtype == pl.Float64():
        return forms.FloatField(**common)
    if dtype == pl.Int64():
        return forms.IntegerField(**common)
    if dtype == pl.Boolean():
        return forms.NullBooleanField(
            widget=forms.Select(choices=YES_NO), required=False, help_text=help_text
        )
    return forms.CharField(max_length=2000, **common)


def table_form(
    table: str, fields: tuple[str, ...], choices: dict[str, list] | None = None
) -> type[forms.Form]:
    """A form for some columns of a table, in the given order; `choices` makes a select."""
    schema = TABLES[table]
    attrs: dict[str, forms.Field] = {}
    for name in fields:
        column = schema.column(name)
        if choices and name in choices:
            attrs[name] = forms.ChoiceField(
                choices=choices[name], required=column.required, help_text=column.description
            )
        else:
            attrs[name] = _field(column.dtype, column.required, column.description)
    return type(f"{table.title().replace('_', '')}Form", (forms.Form,), attrs)


def add_problems(form: forms.Form, problems: list[Problem]) -> None:
    """A service's problems beside their fields (a rule of no field: above the form)."""
    for p in problems:
        field = p.field if p.field in form.fields else None
        message = p.message if p.value in (None, "") or field else f"{p.message} ({p.value})"
        form.add_error(field, message)


class ConsentForm(forms.Form):
    form_version = forms.CharField(max_length=200)
    date_signed = forms.DateField(widget=DATE)
    signed_by = forms.CharField(max_length=200, help_text="who took the consent")


class WithdrawalForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)  # the version read (optimistic lock)
    withdrawal_date = forms.DateField(widget=DATE)
    scope = forms.ChoiceField(
        choices=[(s, s) for s in SCOPES],
        help_text="all: no further data of any kind; treatment: no further infusions, "
        "follow-up data still allowed",
    )
    reason = forms.CharField(max_length=2000, help_text="why (kept in the audit trail)")


class QueryForm(forms.Form):
    field = forms.CharField(max_length=200, help_text="the field the query is about")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class AnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class SignForm(forms.Form):
    meaning = forms.ChoiceField()
    password = forms.CharField(widget=forms.PasswordInput, help_text="your password, again")


class UnlockForm(forms.Form):
    reason = forms.CharField(max_length=2000)
