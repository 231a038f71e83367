from django.urls import path

from openiom.plans import views

app_name = "plans"
REG = "registrations/<int:registration_id>/"
urlpatterns = [
    path(REG, views.plan_page, name="plan"),
    path(f"{REG}start/", views.create_plan, name="create"),
    path(f"{REG}needs/", views.needs, name="needs"),
    path(f"{REG}readiness/", views.readiness, name="readiness"),
    path(f"{REG}objectives/new/", views.objective_add, name="objective_add"),
    path(f"{REG}objectives/<int:objective_id>/", views.objective_edit, name="objective_edit"),
    path(f"{REG}actions/new/", views.action_add, name="action_add"),
    path(f"{REG}actions/<int:action_id>/", views.action_edit, name="action_edit"),
    path(
        f"{REG}actions/<int:action_id>/progress/",
        views.action_progress,
        name="action_progress",
    ),
    path(f"{REG}agree/", views.agree, name="agree"),
    path(f"{REG}review/", views.review, name="review"),
    path(f"{REG}history/", views.history, name="history"),
    path(f"{REG}my-plan.pdf", views.my_plan, name="my_plan"),
]
