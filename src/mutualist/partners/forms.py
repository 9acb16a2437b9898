"""Partner forms: they parse the browser's input; validation and rules live in actions."""

from __future__ import annotations

from typing import Any

from django import forms

from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.partners.choices import PartnerType, Region, Status
from mutualist.partners.models import Partner, Segment


class PartnerForm(forms.Form):
    name = forms.CharField(max_length=200)
    legal_name = forms.CharField(max_length=300, required=False)
    domain = forms.CharField(max_length=253, required=False, help_text="e.g. example.com")
    country = forms.CharField(max_length=2, required=False, help_text="ISO code, e.g. DE")
    region = forms.ChoiceField(choices=[("", "—"), *Region.choices], required=False)
    types = forms.MultipleChoiceField(
        choices=PartnerType.choices, widget=forms.CheckboxSelectMultiple
    )
    segments = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    owner = forms.ChoiceField(choices=(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segments"].choices = [  # type: ignore[attr-defined]
            (s.code, f"{s.get_kind_display()}: {s.name}") for s in Segment.objects.all()
        ]
        owners = User.objects.filter(role__in=[Role.CPO, Role.ALLIANCE_MANAGER], is_active=True)
        self.fields["owner"].choices = [("", "Nobody yet")] + [  # type: ignore[attr-defined]
            (str(u.pk), u.display_name) for u in owners
        ]

    @staticmethod
    def initial_for(partner: Partner) -> dict[str, Any]:
        return {
            "name": partner.name,
            "legal_name": partner.legal_name,
            "domain": partner.domain,
            "country": partner.country,
            "region": partner.region,
            "types": partner.type_list,
            "segments": [s.code for s in partner.segments.all()],
            "owner": str(partner.owner_id or ""),
        }


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(max_length=500)
