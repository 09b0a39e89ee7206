"""URLs of the registry pages; the study is named in the path (/s/<study_id>/...)."""

from pathlib import Path

from django.contrib.auth import views as auth_views
from django.urls import path, re_path
from django.views.static import serve

from celltrial.web.pages import (
    audit_pages,
    dashboard,
    entry,
    participants,
    review,
    statistics,
)
from celltrial.web.pages.login import LoginForm

app_name = "pages"
# the few static files (CSS, htmx) served by the app itself: no front-end server to set up
STATIC = Path(__file__).resolve().parents[1] / "static"
P = "s/<str:study_id>/p/<str:participant_id>/"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="pages/login.html", authentication_form=LoginForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    re_path(r"^static/(?P<path>.*)$", serve, {"document_root": STATIC}, name="static"),
    path("", dashboard.home, name="home"),
    path("s/<str:study_id>/", dashboard.dashboard, name="dashboard"),
    path("s/<str:study_id>/participants/", participants.participant_list, name="participants"),
    path("s/<str:study_id>/participants/new/", entry.register, name="register"),
    path("s/<str:study_id>/lots/new/", entry.lot, name="lot"),
    path(P, participants.participant_page, name="participant"),
    path(P + "consent/", entry.consent, name="consent"),
    path(P + "consent/<int:consent_id>/withdraw/", entry.withdrawal, name="withdrawal"),
    path(P + "screening/", entry.screening, name="screening"),
    path(P + "infusion/", entry.infusion, name="infusion"),
    path(P + "infusion/dose/", entry.dose_preview, name="dose_preview"),
    path(P + "labs/", entry.labs, name="labs"),
    path(P + "medication/", entry.medication, name="medication"),
    path(P + "adverse-event/", entry.adverse_event, name="adverse_event"),
    path(P + "query/", review.open_query_page, name="open_query"),
    path(P + "sign/", review.sign_page, name="sign"),
    path(P + "unlock/", review.unlock_page, name="unlock"),
    path(P + "audit/", audit_pages.participant_audit, name="audit"),
    path("s/<str:study_id>/audit/", audit_pages.study_audit, name="study_audit"),
    path("s/<str:study_id>/audit.csv", audit_pages.study_audit_csv, name="study_audit_csv"),
    path(
        "s/<str:study_id>/audit/<str:table>/<int:record_id>/",
        audit_pages.record_audit,
        name="record_audit",
    ),
    path("s/<str:study_id>/queries/<int:query_id>/", review.query_page, name="query"),
    path("s/<str:study_id>/alerts/", review.alerts_page, name="alerts"),
    path("s/<str:study_id>/analysis/", statistics.analysis_page, name="analysis"),
    path("s/<str:study_id>/analysis/run/", statistics.run_analysis, name="run_analysis"),
    path("s/<str:study_id>/analysis/<str:name>/", statistics.analysis_file, name="analysis_file"),
    path("s/<str:study_id>/export.zip", statistics.export_zip, name="export_zip"),
    path("s/<str:study_id>/export/<str:fmt>/", statistics.export_download, name="export"),
    path("s/<str:study_id>/alerts/<int:alert_id>/ack/", review.acknowledge_page, name="ack"),
]
