from django.urls import path

from openiom.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("mechanisms/", views.mechanisms, name="mechanisms"),
    path("new/", views.new, name="new"),
    path("new/area/", views.new_database, name="new_database"),
    path("new/table/", views.new_table, name="new_table"),
    path("<int:evaluation_id>/", views.detail, name="detail"),
    path("<int:evaluation_id>/report.pdf", views.report_pdf, name="pdf"),
    path("<int:evaluation_id>/report.html", views.report_html, name="html"),
    path("<int:evaluation_id>/result.json", views.result_json, name="json"),
    path("<int:evaluation_id>/csv/<slug:slug>.csv", views.table_csv, name="csv"),
    path("<int:evaluation_id>/rerun/", views.rerun, name="rerun"),
]
