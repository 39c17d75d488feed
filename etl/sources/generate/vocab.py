"""Fixed vocabularies of the synthetic EMR data: region, town, department, role and
service names, staff names. Every string is plain text without tab, newline or backslash,
so it goes into PostgreSQL's COPY text format as it is."""
from __future__ import annotations

REGIONS = ("North", "South", "East", "West", "Central", "Coast", "Highlands", "Valley")

TOWNS = (
    "Ashford", "Bramley", "Carlow", "Dunmore", "Elmstead", "Fairhaven", "Glenbrook", "Holloway",
    "Ivybridge", "Kingsmead", "Larkfield", "Millbrook", "Newhaven", "Oakridge", "Pinewood",
    "Queensbury", "Redcliffe", "Stonebridge", "Thornbury", "Upton", "Westbury", "Yarrow",
    "Alderley", "Beckford", "Cranleigh", "Dalston", "Easton", "Foxley", "Greystone", "Hartwell",
)

DEPARTMENTS = (
    "General practice", "Paediatrics", "Women's health", "Physiotherapy", "Radiology",
    "Laboratory", "Dermatology", "Cardiology", "Mental health", "Minor injuries",
)

# Role groups (the roots of the role tree), their specialties (second level), grades
# (third level), sub-grades (fourth level), and the hourly cost range of the group.
ROLE_GROUPS = (
    ("Physicians", ("General practice", "Paediatrics", "Cardiology", "Dermatology", "Radiology", "Psychiatry"),
     ("consultant", "specialist", "resident"), (75, 150)),
    ("Nursing", ("Practice nursing", "Ward nursing", "Community nursing", "Theatre nursing", "Midwifery",
                 "Mental health nursing"),
     ("nurse", "charge nurse", "nurse practitioner"), (30, 60)),
    ("Allied health", ("Physiotherapy", "Radiography", "Laboratory", "Dietetics", "Occupational therapy",
                       "Pharmacy"),
     ("therapist", "senior therapist", "technician"), (32, 70)),
    ("Administration", ("Reception", "Scheduling", "Billing", "Medical records", "Facilities", "Management"),
     ("clerk", "coordinator", "officer"), (20, 40)),
)
SUB_GRADES = ("senior", "junior")
GROUP_SHARE = (0.25, 0.40, 0.20, 0.15)

SERVICE_CATEGORIES = (
    ("CON", "Consultation"), ("FUP", "Follow-up"), ("VAC", "Vaccination"), ("LAB", "Blood test"),
    ("IMG", "Imaging"), ("PHY", "Physiotherapy session"), ("PRC", "Minor procedure"),
    ("TEL", "Telephone consultation"), ("SCR", "Screening"), ("WND", "Wound care"),
)
SERVICE_VARIANTS = (("S", "short"), ("M", "standard"), ("L", "extended"), ("U", "urgent"), ("C", "complex"))

FIRST_NAMES = (
    "Alex", "Bea", "Chris", "Dana", "Eli", "Fran", "Gus", "Hana", "Ian", "Jo", "Kim", "Lee",
    "Max", "Nina", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tess", "Uma", "Vic", "Wren", "Yara",
)
LAST_NAMES = (
    "Adler", "Brandt", "Costa", "Dekker", "Evans", "Fischer", "Garcia", "Hughes", "Ivanova",
    "Jansen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Peters", "Rossi", "Silva",
    "Tanaka", "Vos", "Weber", "Young",
)

UNKNOWN_STATUSES = ("arrived", "COMPLETED", "in_progress", "Cancelled", "noshow")
