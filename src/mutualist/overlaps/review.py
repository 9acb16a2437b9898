"""The review queue of medium-confidence links.

The matcher's medium tier is right about 93 times in 100 on our benchmark: too often wrong to
count or share (the policy counts exact and high links only), too often right to drop. So a
partner record linked at medium waits here for a person on the vendor side: confirmed, it
counts as high ("confirmed by …"); rejected, it is unlinked. Decisions are remembered per
(partner, record id, company) and applied whenever the list is uploaded or matched again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from mutualist.audit.log import record
from mutualist.lib.errors import ValidationFailed
from mutualist.overlaps import access
from mutualist.overlaps.choices import Side
from mutualist.overlaps.models import LinkReview, PartnerAccount
from mutualist.overlaps.resolution import Link
from mutualist.partners.models import Partner

EXACT, HIGH, MEDIUM = "exact", "high", "medium"
Decision = LinkReview.Decision


def waiting(partner: Partner) -> QuerySet[PartnerAccount]:
    """The partner's records linked at medium confidence, waiting for a decision."""
    return (
        PartnerAccount.objects.filter(partner=partner, confidence=MEDIUM, company__isnull=False)
        .select_related("company")
        .order_by("name", "pk")
    )


def get_waiting(partner: Partner, record_id: int) -> PartnerAccount:
    found = waiting(partner).filter(pk=record_id).first()
    if found is None:
        raise ValidationFailed(
            {"record": "is not waiting for review (decided already, or not a medium link)"}
        )
    return found


def _confirmed_reason(name: str, reason: str) -> str:
    return f"confirmed by {name}; {reason}"[:300]


@transaction.atomic
def decide(actor: Any, partner: Partner, record_id: int, decision: str) -> PartnerAccount:
    """Confirm or reject one waiting link, as the vendor side's CPO or the partner's owner."""
    access.require_can_manage(actor, partner, Side.VENDOR)
    if decision not in Decision.values:
        raise ValidationFailed({"decision": f"must be one of: {', '.join(Decision.values)}"})
    account = get_waiting(partner, record_id)
    company = account.company
    assert company is not None  # waiting() only holds linked records
    LinkReview.objects.update_or_create(
        partner=partner,
        external_id=account.external_id,
        company=company,
        defaults={"decision": decision, "decided_by": actor, "decided_at": timezone.now()},
    )
    before = {"company": company.pk, "confidence": account.confidence, "reason": account.reason}
    if decision == Decision.CONFIRMED:
        account.confidence = HIGH
        account.reason = _confirmed_reason(actor.get_username(), account.reason)
    else:
        account.company, account.confidence = None, ""
        account.reason = f"rejected by {actor.get_username()}: not {company.name}"[:300]
    account.save(update_fields=["company", "confidence", "reason"])
    record(
        actor,
        f"mapping.link.{decision}",
        account,
        before=before,
        after={"company": account.company_id, "confidence": account.confidence},
    )
    return account


def apply_decisions(partner_id: int, links: Mapping[str, Link]) -> dict[str, Link]:
    """Fresh links of a partner's records (by external id), with the decisions people made:
    a rejected pair is dropped (unless now exact), a confirmed medium one counts as high."""
    decided = {
        (external_id, company_id): (decision, who)
        for external_id, company_id, decision, who in LinkReview.objects.filter(
            partner_id=partner_id
        ).values_list("external_id", "company_id", "decision", "decided_by__username")
    }
    kept: dict[str, Link] = {}
    for external_id, link in links.items():
        decision, who = decided.get((external_id, link.company_id), (None, None))
        # A shared domain or registration id is the company's own key: it outranks a person's
        # earlier "different companies" (made, say, before the domain was recorded).
        if decision == Decision.REJECTED and link.confidence != EXACT:
            continue
        if decision == Decision.CONFIRMED and link.confidence == MEDIUM:
            link = Link(link.company_id, HIGH, _confirmed_reason(who or "a reviewer", link.reason))
        kept[external_id] = link
    return kept
