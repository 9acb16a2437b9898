"""Co-selling forms: they parse the browser's input; the rules live in the actions."""

from __future__ import annotations

import uuid

from django import forms


class RegistrationForm(forms.Form):
    company_name = forms.CharField(max_length=255, label="Customer company")
    domain = forms.CharField(
        max_length=253,
        required=False,
        label="Web domain",
        help_text="e.g. acme.com; the best way to identify the company",
    )
    country = forms.CharField(max_length=60, help_text="ISO code, e.g. DE")
    contact_name = forms.CharField(max_length=200, label="Contact")
    contact_email = forms.CharField(max_length=254, required=False, label="Contact e-mail")
    product = forms.CharField(max_length=200)
    amount = forms.CharField(max_length=30, label="Estimated amount")
    currency = forms.CharField(max_length=10, initial="USD", help_text="ISO 4217, e.g. USD")
    expected_close = forms.DateField(
        label="Expected close date", widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # A fresh key per form load: a double click or a browser retry cannot register twice.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)
