"""Reference data loaded by migration from files in openiom/reference/data (sources noted there)."""

from __future__ import annotations

from django.db import models


class AgencyType(models.Model):
    code = models.SlugField(max_length=32, primary_key=True, db_comment="Stable code, e.g. police.")
    name = models.CharField(max_length=100, db_comment="Display name.")
    is_statutory_core = models.BooleanField(
        default=False,
        db_comment="Core statutory IOM agency (police, probation) that manages the area's cohort.",
    )
    is_police = models.BooleanField(
        default=False, db_comment="A police organisation (sees police intelligence)."
    )
    source = models.CharField(max_length=300, db_comment="Where this reference value comes from.")

    class Meta:
        db_table_comment = "Kinds of partner agency (seed 001: police, probation, prisons, councils, YOS, drug, housing...)."
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OffenceCode(models.Model):
    """Home Office offence classification code + sub-code, with MoJ predictor weights."""

    code = models.CharField(
        max_length=6,
        unique=True,
        db_comment="Home Office code and sub-code as GGG/SS, e.g. 028/01.",
    )
    group_code = models.CharField(
        max_length=3, db_index=True, db_comment="Home Office offence group code (3 digits)."
    )
    sub_code = models.CharField(max_length=2, db_comment="Home Office offence sub-code (2 digits).")
    description = models.CharField(max_length=200, db_comment="Description of the offence group.")
    category = models.CharField(
        max_length=60,
        db_index=True,
        db_comment="Broad offence category used on screens and in selection.",
    )
    ogrs3_category = models.CharField(max_length=60, db_comment="OGRS3 current-offence category.")
    ogrs3_weight = models.FloatField(
        null=True,
        blank=True,
        db_comment="OGRS3 offence weight; empty when the exact offence details are needed.",
    )
    is_neighbourhood_crime = models.BooleanField(
        default=False,
        db_comment="Neighbourhood crime (2020 IOM strategy): burglary, robbery, theft from the person, vehicle crime.",
    )
    is_violence_or_sexual = models.BooleanField(
        default=False, db_comment="MoJ OPD violent/sexual flag (OPD_VIOL_SEX)."
    )
    source = models.CharField(max_length=300, db_comment="Source of the weights and description.")

    class Meta:
        db_table_comment = "Offence catalogue: Home Office codes mapped to OGRS3 weights (MoJ hmpps-arns-risk-actuarial-api, MIT)."
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"
