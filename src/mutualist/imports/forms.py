from __future__ import annotations

from typing import Any

from django import forms

KIND_CHOICES = [
    (
        "salesforce",
        "Salesforce export (Account, Opportunity, OpportunityPartner, OpportunityHistory, Lead …)",
    ),
    ("hubspot", "HubSpot export (deals, companies)"),
    ("csv", "Other CRM: CSV with a mapping file"),
    ("revenue", "Revenue from billing (account_id, month, mrr, currency)"),
    ("costs", "Costs from finance (period, category, amount, currency)"),
    ("rates", "Monthly exchange rates from finance (month, currency, rate)"),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=KIND_CHOICES)
    uploads = MultipleFileField(
        label="CSV files", help_text="One or more CSV files imported together, all or nothing."
    )
    config = forms.FileField(
        required=False, help_text="Optional TOML value maps (lead sources, partner roles, stages)."
    )
    mapping = forms.FileField(required=False, help_text="Column mapping TOML, for 'Other CRM'.")
    dry_run = forms.BooleanField(required=False, help_text="Only report what would change.")
    strict = forms.BooleanField(required=False, help_text="Treat warnings as errors.")
