from django.urls import path

from openiom.casework import views

app_name = "casework"
urlpatterns = [
    path("briefing/", views.briefing, name="briefing"),
    path("people/<int:person_id>/contacts/", views.person_contacts, name="contacts"),
    path("alerts/", views.alerts, name="alerts"),
    path(
        "registrations/<int:registration_id>/handling-note/",
        views.handling_note,
        name="handling_note",
    ),
]
