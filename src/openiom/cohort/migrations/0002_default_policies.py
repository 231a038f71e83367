"""Shipped default policies: Fixed/Flex/Free cohorts, RAG rules and de-registration rules.

Values are frozen here (a migration must not change with the code). Each partnership publishes
its own versions with services.publish_cohort_policy_version; these version-1 rows stay as they
are so results that used them remain explainable.
"""

import datetime as dt

from django.db import migrations

EFFECTIVE_FROM = dt.date(2020, 1, 1)
COHORT_SOURCE = (
    "Cohort names: 2020 IOM strategy (neighbourhood crime refocus; Fixed, Flex and Free cohorts) "
    "[V: public source]. Exact definitions, capacity, review period and ages: local policy [U: "
    "common practice, not confirmed] — shipped as a labelled default for each partnership to set. "
    "Planned registration period of 12 months: seen in one scheme [V]."
)
COHORTS = [
    (
        "fixed",
        "Fixed cohort",
        {
            "description": (
                "Neighbourhood-crime offenders (burglary, robbery, theft from the person, vehicle "
                "crime) selected from the scored candidate list."
            ),
            "eligibility": {
                "offence_categories": [],
                "neighbourhood_crime": True,
                "offence_lookback_days": 730,
                "minimum_score": None,
                "min_age": 18,
                "max_age": None,
                "hub_codes": [],
            },
            "capacity": None,
            "review_period_days": 28,
            "planned_registration_months": 12,
        },
    ),
    (
        "flex",
        "Flex cohort",
        {
            "description": (
                "Local priorities such as domestic abuse or serious violence, as the partnership "
                "decides."
            ),
            "eligibility": {
                "offence_categories": [
                    "Violence against the person",
                    "Public order or harassment",
                    "Criminal damage",
                ],
                "neighbourhood_crime": False,
                "offence_lookback_days": 730,
                "minimum_score": None,
                "min_age": 18,
                "max_age": None,
                "hub_codes": [],
            },
            "capacity": None,
            "review_period_days": 28,
            "planned_registration_months": 12,
        },
    ),
    (
        "free",
        "Free cohort",
        {
            "description": "Local discretion: people the panel selects outside Fixed and Flex.",
            "eligibility": {
                "offence_categories": [],
                "neighbourhood_crime": False,
                "offence_lookback_days": None,
                "minimum_score": None,
                "min_age": None,
                "max_age": None,
                "hub_codes": [],
            },
            "capacity": None,
            "review_period_days": 28,
            "planned_registration_months": 12,
        },
    ),
]
RAG_SOURCE = (
    "Seed 001 (one scheme's operational guide, Sussex IOM): green = full attendance at arranged "
    "meetings or appointments, no current police intelligence, negative drug tests, and/or stable "
    "accommodation and/or employment [seed]. Red = actively offending or not engaging, amber = "
    "partly engaging (iom-domain §3.5) [U exact criteria]. The 28-day window for new offending, "
    "arrests and intelligence and the 90 days for 'current' intelligence are defaults [U]."
)
RAG_CONFIG = {
    "window_days": 28,
    "current_intelligence_days": 90,
    "red_rules": ["new_offence", "arrest", "intelligence", "missed_appointments"],
    "missed_appointments_for_red": 1,
    "green_all_of": ["full_attendance", "no_current_intelligence"],
    "green_any_of": ["negative_drug_tests", "stable_accommodation", "employment"],
}
DEREGISTRATION_SOURCE = (
    "Seed 001 (one scheme's operational guide, Sussex IOM): de-register when assessed green for "
    "three months and an exit plan implemented; or when 5 years or more of custody is imposed, "
    "bringing the case to the referral and review meeting 12 months before release if "
    "re-registration is to be considered [seed]. 5 years is counted as 1825 days [U]."
)
DEREGISTRATION_CONFIG = {
    "green_months": 3,
    "green_days": None,
    "exit_plan_required": True,
    "long_sentence_days": 1825,
    "reconsider_months_before_release": 12,
}


def seed(apps, schema_editor):
    CohortDefinition = apps.get_model("cohort", "CohortDefinition")
    RagPolicy = apps.get_model("cohort", "RagPolicy")
    DeregistrationPolicy = apps.get_model("cohort", "DeregistrationPolicy")
    for key, name, config in COHORTS:
        CohortDefinition.objects.get_or_create(
            key=key,
            version=1,
            defaults={
                "name": name,
                "effective_from": EFFECTIVE_FROM,
                "source": COHORT_SOURCE,
                "change_note": "Shipped default.",
                "config": config,
            },
        )
    RagPolicy.objects.get_or_create(
        key="rag",
        version=1,
        defaults={
            "name": "RAG suggestion rules",
            "effective_from": EFFECTIVE_FROM,
            "source": RAG_SOURCE,
            "change_note": "Shipped default.",
            "config": RAG_CONFIG,
        },
    )
    DeregistrationPolicy.objects.get_or_create(
        key="deregistration",
        version=1,
        defaults={
            "name": "De-registration rules",
            "effective_from": EFFECTIVE_FROM,
            "source": DEREGISTRATION_SOURCE,
            "change_note": "Shipped default.",
            "config": DEREGISTRATION_CONFIG,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("cohort", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
