from django.urls import path

from openiom.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("upload/", views.upload, name="upload"),
    path("<int:pk>/", views.batch_detail, name="batch_detail"),
    path("<int:pk>/errors/", views.batch_errors, name="batch_errors"),
    path("<int:pk>/errors.csv", views.batch_errors_csv, name="batch_errors_csv"),
    path("matches/", views.match_list, name="match_list"),
    path("matches/<int:pk>/", views.match_detail, name="match_detail"),
]
