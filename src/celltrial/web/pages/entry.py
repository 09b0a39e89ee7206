"""Data entry forms. Each parses what was typed and hands it to the services the API uses
(writes.create_row, consent_records, protocol.screen, release_lots, compute_dose); a
refusal puts each problem beside its field and keeps what was typed."""

from __future__ import annotations

import datetime as dt
from functools import partial

import polars as pl
from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from celltrial.clinical.analytes import ANALYTES
from celltrial.data.schema import TABLES
from celltrial.protocol import release_lots, screen
from celltrial.registry.models import Membership
from celltrial.registry.services import infusions
from celltrial.registry.services.access import site_ids, visible_rows
from celltrial.registry.services.alerts import findings
from celltrial.registry.services.checks import as_entered, row_frame
from celltrial.registry.services.consent import describe
from celltrial.registry.services.consent_records import (
    record_consent,
    visible_consent,
    withdraw_consent,
)
from celltrial.registry.services.errors import Conflict, NotFound, Problem, Refused
from celltrial.registry.services.frames import frame_of, study_data
from celltrial.registry.services.protocols import study_protocol
from celltrial.registry.services.writes import create_row, update_row
from celltrial.web.pages.access import participant_of, study_page
from celltrial.web.pages.forms import ConsentForm, WithdrawalForm, add_problems, table_form

# the lab panel of a visit: Lian 2022 screening, efficacy and safety labs (L109-123, table 3)
# and the malignancy question of its long-term follow-up (lian2022 m6-m36, 1 yes / 0 no)
PANEL = (
    "hba1c", "fpg", "pg2h", "fcp", "cp2h", "gad_ab", "sbp", "dbp", "weight",
    "alt", "creatinine", "leukocytes", "afp", "cea", "ca199", "new_malignancy",
)  # fmt: skip
PARTICIPANT_FIELDS = (
    "participant_id",
    "site_id",
    "sex",
    "birth_date",
    "age",
    "enrollment_date",
    "diabetes_duration_years",
    "height_cm",
    "arm",
    "status",
)
RELATEDNESS = ["", "related", "possibly", "unlikely", "not related"]  # schema description


def _page(
    request: HttpRequest,
    member: Membership,
    title: str,
    form: forms.Form,
    person=None,
    extra: dict | None = None,
) -> HttpResponse:
    context = {"member": member, "title": title, "form": form, "person": person, **(extra or {})}
    return render(request, "pages/entry.html", context)


def _saved(request: HttpRequest, form: forms.Form, save, extra: dict | None = None) -> bool:
    """True when the form parses and the service stores it (with `extra` values);
    the service's problems go beside their fields."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        save({**form.cleaned_data, **(extra or {})})
    except Refused as exc:
        add_problems(form, exc.problems)
        return False
    return True


def _to_participant(person) -> HttpResponse:
    return redirect(
        "pages:participant", study_id=person.study.study_id, participant_id=person.participant_id
    )


@study_page
def register(request: HttpRequest, member: Membership) -> HttpResponse:
    sites = site_ids(member) or list(member.study.sites.values_list("site_id", flat=True))
    Form = table_form(
        "participants",
        PARTICIPANT_FIELDS,
        {
            "site_id": [(s, s) for s in sorted(sites)],
            "sex": [("", "choose"), ("F", "F"), ("M", "M")],
            "status": [("screening", "screening"), ("enrolled", "enrolled")],
        },
    )
    form = Form(request.POST or None)
    if _saved(request, form, partial(create_row, request.user, member, "participants")):
        return redirect(
            "pages:participant",
            study_id=member.study.study_id,
            participant_id=form.cleaned_data["participant_id"],
        )
    return _page(request, member, "Register a participant", form)


@study_page
def consent(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
    person = participant_of(member, participant_id)
    form = ConsentForm(request.POST or None)
    own = {"participant_id": participant_id}
    if _saved(request, form, partial(record_consent, request.user, member), own):
        return _to_participant(person)
    return _page(request, member, f"Consent of {participant_id}", form, person)


@study_page
def withdrawal(
    request: HttpRequest, member: Membership, participant_id: str, consent_id: int
) -> HttpResponse:
    """A withdrawal of consent (date, scope, reason) through consent_records, as the API's."""
    person = participant_of(member, participant_id)
    consent = visible_consent(member, consent_id)
    if consent.participant_id != participant_id:
        raise NotFound(f"no consent {consent_id} of {participant_id}")
    form = WithdrawalForm(request.POST or None, initial={"version": consent.version})

    def save(v: dict) -> None:
        try:
            withdraw_consent(
                request.user, member, consent, v["version"], v["withdrawal_date"], v["scope"],
                v["reason"],
            )  # fmt: skip
        except Conflict as exc:
            raise Refused([Problem(None, f"the consent {exc}: reload and try again")]) from exc

    if _saved(request, form, save):
        return _to_participant(person)
    title = f"Withdrawal of the {describe(consent)}"
    return _page(request, member, title, form, person)


def _simple(table: str, fields: tuple[str, ...], title: str, choices=None):
    @study_page
    def view(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
        person = participant_of(member, participant_id)
        more = choices(member, participant_id) if choices else None
        form = table_form(table, fields, more)(request.POST or None)
        save = partial(create_row, request.user, member, table)
        if _saved(request, form, save, {"participant_id": participant_id}):
            return _to_participant(person)
        return _page(request, member, f"{title} of {participant_id}", form, person)

    return view


def _infusion_choices(member: Membership, participant_id: str) -> dict:
    rows = visible_rows(member, "infusions").filter(participant_id=participant_id)
    ids = list(rows.values_list("infusion_id", flat=True))
    return {
        "grade": [("", "not graded")] + [(str(g), str(g)) for g in range(1, 6)],  # CTCAE 1-5
        "related": [(r, r or "not assessed") for r in RELATEDNESS],
        "infusion_id": [("", "none")] + [(i, i) for i in ids],
    }


medication = _simple(
    "medications",
    ("drug", "atc_code", "daily_dose", "dose_unit", "start_date", "end_date"),
    "Medication period",
)
adverse_event = _simple(
    "adverse_events",
    (
        "ae_id",
        "term",
        "onset_time",
        "end_time",
        "grade",
        "serious",
        "related",
        "infusion_id",
        "outcome",
    ),
    "Adverse event",
    _infusion_choices,
)


def released_lots(member: Membership, on: dt.date) -> pl.DataFrame:
    """The study's lots with the protocol's release result on a day (protocol.lots)."""
    lots = frame_of(visible_rows(member, "lots"), "lots")
    protocol = study_protocol(member.study)
    if protocol is None:
        return lots.select("lot_id", pl.lit(True).alias("released"), pl.lit([]).alias("reasons"))
    return release_lots(lots, protocol.lot_release, on)


@study_page
def infusion(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
    person = participant_of(member, participant_id)
    lots = released_lots(member, dt.date.today()).filter("released")
    Form = table_form(
        "infusions",
        ("infusion_id", "lot_id", "start_time", "weight_kg", "dose_cells", "route"),
        {"lot_id": [("", "choose a released lot")] + [(x, x) for x in lots["lot_id"]]},
    )
    form = Form(request.POST or None, initial={"route": "IV"})
    preview = {
        "hx-get": reverse("pages:dose_preview", args=[member.study.study_id, participant_id]),
        "hx-trigger": "input changed delay:300ms, change",
        "hx-target": "#dose-preview",
        "hx-include": "closest form",
    }
    for name in ("lot_id", "start_time", "weight_kg", "dose_cells"):
        form.fields[name].widget.attrs.update(preview)
    form.fields["dose_cells"].required = False  # computed from the weight by the protocol
    form.fields["dose_cells"].help_text = "empty: the protocol's dose for the weight"
    save = partial(create_row, request.user, member, "infusions")
    if _saved(request, form, save, {"participant_id": participant_id}):
        return _to_participant(person)
    protocol = study_protocol(member.study)
    rule = None
    if protocol is not None and protocol.dosing.cells_per_kg:
        rule = (
            f"protocol {protocol.id}: {protocol.dosing.cells_per_kg:.3g} cells/kg "
            f"(tolerance {protocol.dosing.tolerance_pct:g} %)"
        )
    return _page(
        request,
        member,
        f"Infusion of {participant_id}",
        form,
        person,
        {"dose_rule": rule, "preview": True},
    )


class DoseInput(forms.Form):
    """What the infusion form holds so far (every field optional while typing)."""

    lot_id = forms.CharField(required=False, max_length=200)
    start_time = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M"])
    weight_kg = forms.FloatField(required=False)
    dose_cells = forms.FloatField(required=False)


@study_page
def dose_preview(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
    """The dose as typed on the infusion form, through the dosing service (htmx)."""
    participant_of(member, participant_id)
    protocol = study_protocol(member.study)
    typed = DoseInput(request.GET)
    if protocol is None or not typed.is_valid():
        return render(request, "pages/dose_preview.html", {"plan": None, "typed": typed})
    v = typed.cleaned_data
    lot_id = v["lot_id"] or None
    lots = frame_of(visible_rows(member, "lots").filter(lot_id=lot_id), "lots")
    on = v["start_time"].date() if v["start_time"] else dt.date.today()
    plan = infusions.dose_preview(lots, protocol, lot_id, v["weight_kg"], v["dose_cells"], on)
    return render(request, "pages/dose_preview.html", {"plan": plan, "typed": typed})


@study_page
def lot(request: HttpRequest, member: Membership) -> HttpResponse:
    fields = tuple(c.name for c in TABLES["lots"].columns)
    form = table_form(
        "lots",
        fields,
        {
            "release_status": [
                ("quarantine", "quarantine"),
                ("released", "released"),
                ("rejected", "rejected"),
            ]
        },
    )(request.POST or None)
    result = None
    if _saved(request, form, partial(create_row, request.user, member, "lots")):
        result = (
            released_lots(member, dt.date.today())
            .filter(pl.col("lot_id") == form.cleaned_data["lot_id"])
            .to_dicts()[0]
        )
        form = type(form)()
    return _page(request, member, "Cell product lot", form, None, {"release": result})


class PanelForm(forms.Form):
    time = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    fasting = forms.NullBooleanField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for a in PANEL:
            units = ANALYTES[a].accepted_units()
            self.fields[f"value_{a}"] = forms.CharField(
                required=False, max_length=40, label=ANALYTES[a].name
            )
            self.fields[f"unit_{a}"] = forms.ChoiceField(
                choices=[(u, u) for u in units], required=False, label=f"unit of {a}"
            )

    def rows(self) -> list[dict]:
        return [
            {"analyte": a, "value": self[f"value_{a}"], "unit": self[f"unit_{a}"]} for a in PANEL
        ]


def lab_check(analyte: str, value: str, unit: str) -> dict:
    """The canonical value (the one converter) and the plausibility warning of one entry."""
    row = as_entered(
        {
            "participant_id": "-",
            "analyte": analyte,
            "value": value,
            "unit": unit,
            "time": dt.datetime(2000, 1, 1),
        }
    )
    try:
        canonical = row_frame("measurements", row).row(0, named=True)
    except (pl.exceptions.PolarsError, ValueError):
        return {"canonical": None, "warning": None}
    shown = None if canonical["value"] is None else f"{canonical['value']:.4g} {canonical['unit']}"
    warning = "; ".join(m for _, m in findings("measurements", canonical)) or None
    return {"canonical": shown, "warning": warning}


@study_page
def labs(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
    person = participant_of(member, participant_id)
    if request.htmx and request.GET.get("analyte") in PANEL:
        a = request.GET["analyte"]
        check = lab_check(a, request.GET.get(f"value_{a}", ""), request.GET.get(f"unit_{a}", ""))
        return render(request, "pages/lab_check.html", check)
    form = PanelForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and _store_panel(request, member, participant_id, form)
    ):
        return _to_participant(person)
    return render(
        request,
        "pages/labs.html",
        {
            "member": member,
            "person": person,
            "form": form,
            "title": f"Visit labs of {participant_id}",
        },
    )


def _store_panel(
    request: HttpRequest, member: Membership, participant_id: str, form: PanelForm
) -> bool:
    """Every filled value of the panel, all or none: each refusal beside its value."""
    v = form.cleaned_data
    filled = [a for a in PANEL if (v.get(f"value_{a}") or "").strip()]
    if not filled:
        form.add_error(None, "enter at least one value")
        return False
    refused = False
    with transaction.atomic():
        for a in filled:  # the dozen analytes of one panel
            row = {
                "participant_id": participant_id,
                "analyte": a,
                "time": v["time"],
                "value": v[f"value_{a}"].strip(),
                "unit": v[f"unit_{a}"] or ANALYTES[a].unit,
                "fasting": v.get("fasting"),
                "source": "lab",
            }
            try:
                create_row(request.user, member, "measurements", row)
            except Refused as exc:
                refused = True
                for p in exc.problems:
                    field = f"unit_{a}" if p.field == "unit" else f"value_{a}"
                    if p.field in ("participant_id", "time"):
                        field = None if p.field == "participant_id" else "time"
                    form.add_error(field, p.message)
        if refused:
            transaction.set_rollback(True)
    return not refused


@study_page
def screening(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
    """The checklist answered per criterion; the eligibility of every criterion is
    recomputed by protocol.screen as it is filled (htmx), and saved on submit."""
    person = participant_of(member, participant_id)
    protocol = study_protocol(member.study)
    checklist = [c for c in protocol.eligibility if c.check == "checklist"] if protocol else []
    stored = {
        r.criterion_id: r
        for r in visible_rows(member, "screening").filter(participant_id=participant_id)
    }
    answers = {c.id: _answer(request, c.id, stored.get(c.id)) for c in checklist}
    problems: dict[str, list[str]] = {}
    if request.method == "POST" and not request.htmx:
        problems = _store_screening(request, member, participant_id, answers, stored)
        if not problems:
            return _to_participant(person)
    result = _preview(member, participant_id, answers) if protocol else None
    rows = [(c, answers[c.id], problems.get(c.id, [])) for c in checklist]
    context = {
        "member": member,
        "person": person,
        "checklist": rows,
        "result": result,
        "problems": problems,
        "title": f"Screening of {participant_id}",
        "locked_reason": request.POST.get("reason", ""),
    }
    template = "pages/screening_result.html" if request.htmx else "pages/screening.html"
    return render(request, template, context)


def _answer(request: HttpRequest, cid: str, row) -> dict:
    if request.method == "POST":
        met = request.POST.get(f"met_{cid}", "")
        return {
            "met": {"true": True, "false": False}.get(met),
            "reason": request.POST.get(f"reason_{cid}", ""),
        }
    return {"met": row.met if row else None, "reason": (row.reason or "") if row else ""}


def _preview(member: Membership, participant_id: str, answers: dict) -> dict:
    """screen() on the participant with the checklist as typed (nothing stored)."""
    data = study_data(member.study, [participant_id])
    typed = pl.DataFrame(
        [
            {
                "participant_id": participant_id,
                "criterion_id": c,
                "met": a["met"],
                "value": None,
                "reason": a["reason"] or None,
            }
            for c, a in answers.items()
        ],
        schema=TABLES["screening"].polars_schema,
    )
    data = data.with_table("screening", typed)
    result = screen(data, study_protocol(member.study))
    mine = result.criteria.filter(pl.col("participant_id") == participant_id)
    eligible = result.participants.filter(pl.col("participant_id") == participant_id)
    return {
        "eligible": bool(eligible["eligible"][0]) if eligible.height else False,
        "criteria": mine.select("criterion_id", "kind", "status", "reason").to_dicts(),
    }


def _store_screening(request, member, participant_id, answers, stored) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    reason = request.POST.get("reason", "").strip() or None
    with transaction.atomic():
        for cid, a in answers.items():  # the protocol's few dozen criteria
            values = {"met": a["met"], "reason": a["reason"] or None}
            row = stored.get(cid)
            try:
                if row is None:
                    if a["met"] is None and not a["reason"]:
                        continue
                    create_row(
                        request.user,
                        member,
                        "screening",
                        {"participant_id": participant_id, "criterion_id": cid, **values},
                    )
                elif (row.met, row.reason) != (values["met"], values["reason"]):
                    update_row(
                        request.user, member, "screening", row.pk, row.version, values, reason
                    )
            except Refused as exc:
                problems[cid] = [p.message for p in exc.problems]
        if problems:
            transaction.set_rollback(True)
    return problems
