from django.urls import path

from openiom.scrutiny import views

app_name = "scrutiny"
urlpatterns = [
    path(
        "runs/<int:run_id>/disproportionality",
        views.run_view,
        name="run_disproportionality",
    ),
    path("cohort/disproportionality", views.cohort_view, name="cohort_disproportionality"),
    path("score-audit", views.score_audit, name="score_audit"),
]
