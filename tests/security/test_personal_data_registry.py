"""Every field holding personal data is registered with its purpose, sensitivity class and retention
(gridgov/privacy/registry.py). The walk fails on a field that looks personal but is unregistered,
and on a registered field that does not exist."""

from __future__ import annotations

import re

from django.apps import apps
from django.db import models

from gridgov.privacy.registry import NOT_PERSONAL, PERSONAL, PERSONAL_FIELDS, SENSITIVE, STAFF

# Names that suggest a person: identity, contact, body, home, circumstances, free text, files.
LOOKS_PERSONAL = re.compile(
    r"(^|_)(name|phone|mobile|email|id|id_number|idcard|birth|gender|sex|ethnicity|health|disability|illness|"
    r"address|house_number|lat|lng|location|political|occupation|education|residency|away|ip|reporter|"
    r"comment|note|notes|description|content|changes|detail|payload|body|title|result|file|photo|"
    r"password|secret|token|party_member|resident|household|username|reason|errors|watermark)($|_)"
)
# Bookkeeping that matches the pattern on every model: keys and technical links, not personal data.
TECHNICAL = {"id", "object_id", "request_id", "dedupe_key", "idempotency_key", "payload_hash"}


def our_fields() -> dict[str, models.Field]:
    out = {}
    for model in apps.get_models():
        if not model.__module__.startswith("gridgov."):
            continue
        for field in model._meta.concrete_fields:
            out[f"{model._meta.label}.{field.name}"] = field
    return out


def looks_personal(name: str, field: models.Field) -> bool:
    if name in TECHNICAL:
        return False
    if isinstance(field, models.FileField | models.BinaryField):
        return True
    if field.is_relation:
        # A link to a resident or household is personal; links to units, roles, staff are covered by those.
        return field.related_model is not None and field.related_model._meta.label in (
            "residents.Resident", "residents.Household") and field.model._meta.label not in (
            "residents.Resident", "residents.Household", "residents.HouseholdAssignment")
    return bool(LOOKS_PERSONAL.search(name))


def test_every_field_that_looks_personal_is_registered():
    fields = our_fields()
    missing = sorted(label for label, f in fields.items()
                     if looks_personal(f.name, f) and label not in PERSONAL_FIELDS and label not in NOT_PERSONAL)
    assert not missing, "register these fields in gridgov/privacy/registry.py (or say why not personal):\n" + \
        "\n".join(missing)


def test_every_registered_field_exists():
    fields = our_fields()
    unknown = sorted(k for k in [*PERSONAL_FIELDS, *NOT_PERSONAL] if k not in fields)
    assert not unknown, f"registered fields that do not exist: {unknown}"
    assert not set(PERSONAL_FIELDS) & set(NOT_PERSONAL)


def test_every_entry_has_a_purpose_class_and_retention():
    for label, entry in PERSONAL_FIELDS.items():
        assert entry.purpose.strip(), label
        assert entry.sensitivity in (SENSITIVE, PERSONAL, STAFF), label
        assert entry.retention.strip(), label


def test_sensitive_identity_fields_are_classed_sensitive():
    for label in ("residents.Resident.id_cipher", "residents.Resident.health", "residents.Resident.disability",
                  "residents.TagAssignment.resident"):
        assert PERSONAL_FIELDS[label].sensitivity == SENSITIVE


def test_the_walk_can_fail():
    """A new personal-looking field on any model would be caught: the walk sees it."""
    field = models.CharField(max_length=20)
    field.name = "guardian_phone"
    assert looks_personal("guardian_phone", field)
    assert not looks_personal("sort_order", models.IntegerField())
