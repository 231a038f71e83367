from django.urls import path

from openiom.providers import views

app_name = "providers"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("people/<int:person_id>/", views.person_referrals, name="person"),
    path("registrations/<int:registration_id>/send/", views.send, name="send"),
    path("<int:referral_id>/", views.detail, name="detail"),
    path("<int:referral_id>/transition/", views.transition, name="transition"),
]
