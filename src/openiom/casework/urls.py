from django.urls import path

from openiom.casework import views

app_name = "casework"
urlpatterns = [
    path("briefing/", views.briefing, name="briefing"),
    path("people/<int:person_id>/contacts/", views.person_contacts, name="contacts"),
]
