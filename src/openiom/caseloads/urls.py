from django.urls import path

from openiom.caseloads import views

app_name = "caseloads"
urlpatterns = [
    path("", views.caseload_page, name="caseload"),
    path("contribution/", views.contribution_page, name="contribution"),
]
