from django.urls import path

from openiom.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.log, name="log"),
    path("people/<int:person_id>/viewers/", views.viewers, name="viewers"),
    path("unusual-access/", views.unusual_access, name="unusual_access"),
]
