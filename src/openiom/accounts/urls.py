from django.urls import path

from openiom.accounts import views

app_name = "accounts"
urlpatterns = [
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-in/code", views.verify_code, name="verify-code"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("two-factor", views.two_factor_setup, name="two-factor-setup"),
    path("role", views.choose_role, name="choose-role"),
]
