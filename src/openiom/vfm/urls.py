from django.urls import path

from openiom.vfm import views

app_name = "vfm"
urlpatterns = [
    path("", views.index, name="index"),
    path("assumptions/", views.assumptions, name="assumptions"),
    path("assumptions/publish/", views.assumptions_publish, name="assumptions_publish"),
    path("costs/<slug:key>/", views.programme, name="programme"),
    path("costs/<slug:key>/publish/", views.programme_publish, name="programme_publish"),
    path("appraise/", views.appraise, name="appraise"),
    path("contracts/new/", views.contract_new, name="contract_new"),
    path("contracts/<int:contract_id>/", views.contract_detail, name="contract"),
]
