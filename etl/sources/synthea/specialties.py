"""Synthea's clinician specialties and the role group each belongs to.

A copy of ``synthea_clinician_specialties.csv`` (Synthea's ``ClinicianSpecialty``
constants with a suggested role group each), kept as data in the code so the importer
needs nothing outside the package at run time. Specialties are matched case-insensitively
with runs of whitespace collapsed; one not listed here belongs to the ``other`` group.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from etl.sources.synthea.idmap import map_key

OTHER_GROUP = "other"

GROUP_NAMES: dict[str, str] = {
    "physician_primary_care": "Physicians, primary care",
    "physician_specialist": "Physicians, specialists",
    "physician_emergency_acute": "Physicians, emergency and acute care",
    "advanced_practice_provider": "Advanced practice providers",
    "allied_health": "Allied health",
    "behavioral_health": "Behavioral health",
    "dental": "Dental",
    "unknown": "Undefined physician type",
    OTHER_GROUP: "Other specialties",
}
"""Root roles (role groups): key in the id map → ``emr_role.name``."""

SPECIALTY_GROUPS: dict[str, str] = {
    "ADDICTION MEDICINE": "physician_specialist",
    "ALLERGY/IMMUNOLOGY": "physician_specialist",
    "ANESTHESIOLOGY": "physician_specialist",
    "ANESTHESIOLOGY ASSISTANT": "advanced_practice_provider",
    "AUDIOLOGIST": "allied_health",
    "CARDIAC ELECTROPHYSIOLOGY": "physician_specialist",
    "CARDIAC SURGERY": "physician_specialist",
    "CARDIOVASCULAR DISEASE (CARDIOLOGY)": "physician_specialist",
    "CERTIFIED NURSE MIDWIFE": "advanced_practice_provider",
    "CHIROPRACTIC": "allied_health",
    "CLINICAL NURSE SPECIALIST": "advanced_practice_provider",
    "CLINICAL PSYCHOLOGIST": "behavioral_health",
    "CLINICAL SOCIAL WORKER": "behavioral_health",
    "COLORECTAL SURGERY (PROCTOLOGY)": "physician_specialist",
    "CRITICAL CARE (INTENSIVISTS)": "physician_emergency_acute",
    "DENTIST": "dental",
    "DERMATOLOGY": "physician_specialist",
    "DIAGNOSTIC RADIOLOGY": "physician_specialist",
    "EMERGENCY MEDICINE": "physician_emergency_acute",
    "ENDOCRINOLOGY": "physician_specialist",
    "FAMILY PRACTICE": "physician_primary_care",
    "GASTROENTEROLOGY": "physician_specialist",
    "GENERAL PRACTICE": "physician_primary_care",
    "GENERAL SURGERY": "physician_specialist",
    "GERIATRIC MEDICINE": "physician_primary_care",
    "GERIATRIC PSYCHIATRY": "physician_specialist",
    "GYNECOLOGICAL ONCOLOGY": "physician_specialist",
    "HAND SURGERY": "physician_specialist",
    "HEMATOLOGY": "physician_specialist",
    "HEMATOLOGY/ONCOLOGY": "physician_specialist",
    "HOSPICE/PALLIATIVE CARE": "physician_specialist",
    "HOSPITALIST": "physician_emergency_acute",
    "INFECTIOUS DISEASE": "physician_specialist",
    "INTERNAL MEDICINE": "physician_primary_care",
    "INTERVENTIONAL CARDIOLOGY": "physician_specialist",
    "INTERVENTIONAL PAIN MANAGEMENT": "physician_specialist",
    "INTERVENTIONAL RADIOLOGY": "physician_specialist",
    "MAXILLOFACIAL SURGERY": "dental",
    "MEDICAL ONCOLOGY": "physician_specialist",
    "NEPHROLOGY": "physician_specialist",
    "NEUROLOGY": "physician_specialist",
    "NEUROPSYCHIATRY": "physician_specialist",
    "NEUROSURGERY": "physician_specialist",
    "NUCLEAR MEDICINE": "physician_specialist",
    "NURSE PRACTITIONER": "advanced_practice_provider",
    "OBSTETRICS/GYNECOLOGY": "physician_specialist",
    "OCCUPATIONAL THERAPY": "allied_health",
    "OPHTHALMOLOGY": "physician_specialist",
    "OPTOMETRY": "allied_health",
    "ORAL SURGERY": "dental",
    "ORTHOPEDIC SURGERY": "physician_specialist",
    "OTOLARYNGOLOGY": "physician_specialist",
    "PAIN MANAGEMENT": "physician_specialist",
    "PATHOLOGY": "physician_specialist",
    "PEDIATRIC MEDICINE": "physician_primary_care",
    "PERIPHERAL VASCULAR DISEASE": "physician_specialist",
    "PHYSICAL THERAPY": "allied_health",
    "PHYSICIAN ASSISTANT": "advanced_practice_provider",
    "PODIATRY": "allied_health",
    "PREVENTATIVE MEDICINE": "physician_primary_care",
    "PSYCHIATRY": "physician_specialist",
    "PULMONARY DISEASE": "physician_specialist",
    "RADIATION ONCOLOGY": "physician_specialist",
    "RHEUMATOLOGY": "physician_specialist",
    "SLEEP MEDICINE": "physician_specialist",
    "SPEECH LANGUAGE PATHOLOGIST": "allied_health",
    "SPORTS MEDICINE": "physician_specialist",
    "SURGICAL ONCOLOGY": "physician_specialist",
    "THORACIC SURGERY": "physician_specialist",
    "UNDEFINED PHYSICIAN TYPE (SPECIFY)": "unknown",
    "UROLOGY": "physician_specialist",
    "VASCULAR SURGERY": "physician_specialist",
}
"""Synthea ``SPECIALITY`` value → role group key."""


@dataclass(frozen=True)
class RoleNode:
    """One ``emr_role`` row to be: its id-map key, its name and its parent's key."""

    key: str
    name: str
    parent_key: str | None


def normal_specialty(value: str) -> str:
    """The specialty as matched and stored: upper case, single spaces."""
    return re.sub(r"\s+", " ", value).strip().upper()


def role_path(specialty: str) -> tuple[RoleNode, RoleNode]:
    """(group, specialty) roles of a non-empty ``SPECIALITY`` value."""
    name = normal_specialty(specialty)
    group_key = SPECIALTY_GROUPS.get(name, OTHER_GROUP)
    group = RoleNode(f"group:{group_key}", GROUP_NAMES[group_key], None)
    return group, RoleNode(map_key("specialty", name), name[:200], group.key)
