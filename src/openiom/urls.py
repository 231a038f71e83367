from django.contrib import admin
from django.urls import include, path

from openiom.api import api

urlpatterns = [
    path("", include("openiom.core.urls")),
    path("accounts/", include("openiom.accounts.urls")),
    path("people/", include("openiom.people.urls")),
    path("audit/", include("openiom.audit.urls")),
    path("imports/", include("openiom.imports.urls")),
    path("cohort/", include("openiom.cohort.urls")),
    path("scoring/", include("openiom.scoring.urls")),
    path("scrutiny/", include("openiom.scrutiny.urls")),
    path("evaluation/", include("openiom.evaluation.urls")),
    path("value-for-money/", include("openiom.vfm.urls")),
    path("casework/", include("openiom.casework.urls")),
    path("plans/", include("openiom.plans.urls")),
    path("provider-referrals/", include("openiom.providers.urls")),
    path("caseloads/", include("openiom.caseloads.urls")),
    path("api/", api.urls),
    path("django-admin/", admin.site.urls),
]

handler403 = "openiom.core.views.forbidden"
handler404 = "openiom.core.views.not_found"
handler500 = "openiom.core.views.server_error"
