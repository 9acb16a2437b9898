"""Closed vocabularies of onboarding journeys."""

from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    TRAINING = "training", "Training session"
    RESOURCE = "resource", "Resource to share"
    CONTACT = "contact", "Named contact point"
    INTEGRATION = "integration", "Integration step"
    CERTIFICATION = "certification", "Certification"
    OTHER = "other", "Other"


class Side(models.TextChoices):
    VENDOR = "vendor", "Vendor"
    PARTNER = "partner", "Partner"


class JourneyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


# A task in one of these states no longer holds anything up.
RESOLVED = frozenset({TaskStatus.DONE, TaskStatus.SKIPPED})
