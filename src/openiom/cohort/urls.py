from django.urls import path

from openiom.cohort import views

app_name = "cohort"
urlpatterns = [
    path("", views.register, name="register"),
    path("people/<int:person_id>/refer/", views.refer, name="refer"),
    path("referrals/", views.my_referrals, name="my_referrals"),
    path("referrals/queue/", views.queue, name="queue"),
    path("referrals/<int:referral_id>/", views.referral_detail, name="referral"),
    path("referrals/<int:referral_id>/submit/", views.submit_referral, name="submit"),
    path("referrals/<int:referral_id>/list/", views.list_for_panel, name="list_for_panel"),
    path("referrals/<int:referral_id>/withdraw/", views.withdraw, name="withdraw"),
    path("referrals/<int:referral_id>/decision/", views.panel_decision, name="decision"),
    path(
        "reconsiderations/<int:reconsideration_id>/",
        views.reconsideration_detail,
        name="reconsideration",
    ),
    path("registrations/<int:registration_id>/", views.registration_detail, name="registration"),
    path("registrations/<int:registration_id>/rag/", views.assess_rag, name="assess_rag"),
    path("registrations/<int:registration_id>/exit-plan/", views.exit_plan, name="exit_plan"),
    path("registrations/<int:registration_id>/deregister/", views.deregister, name="deregister"),
    path("registrations/<int:registration_id>/status/", views.change_status, name="status"),
    path("registrations/<int:registration_id>/lead/", views.change_lead, name="change_lead"),
    path("policies/", views.policies, name="policies"),
    path("policies/cohort/new/", views.publish_policy, {"kind": "cohort"}, name="new_cohort"),
    path("policies/<slug:kind>/<slug:key>/", views.policy_detail, name="policy"),
    path("policies/<slug:kind>/<slug:key>/publish/", views.publish_policy, name="publish"),
    path("messages/", views.notifications, name="notifications"),
    path("messages/<int:notification_id>/read/", views.read_notification, name="read"),
]
