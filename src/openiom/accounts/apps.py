from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "openiom.accounts"
    label = "accounts"
    verbose_name = "Accounts"
