from django.urls import path

from openiom.scoring import views

app_name = "scoring"
urlpatterns = [
    path("", views.index, name="index"),
    path("runs/new/", views.run_new, name="run_new"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/people/<int:person_id>/", views.explanation, name="explanation"),
    path("policies/", views.policies, name="policies"),
    path("policies/<slug:kind>/<slug:key>/", views.policy_detail, name="policy"),
    path("policies/<slug:kind>/<slug:key>/diff/", views.policy_diff, name="policy_diff"),
    path("policies/<slug:kind>/<slug:key>/publish/", views.policy_publish, name="publish"),
]
