"""``{% load cite %}``: citation text on the commitment page, from ``commitments.citations``
(the one place it is written). Plain text out: the template escapes it.

Owns these tags only: no queries, no wording of its own.
"""

from django import template

from .. import citations, structured_data

register = template.Library()


@register.simple_tag
def step_citation(commitment, obj, accessed) -> str:
    """``{% step_citation commitment event.obj accessed as citation %}``"""
    return citations.step_citation(commitment, obj, accessed)


@register.simple_tag
def commitment_citation(commitment, last_changed, accessed) -> str:
    """``{% commitment_citation commitment last_changed accessed as citation %}``"""
    return citations.commitment_citation(commitment, last_changed=last_changed, accessed=accessed)


@register.simple_tag
def commitment_json_ld(commitment, last_changed_on) -> str:
    """``{% commitment_json_ld commitment last_changed_on %}``: the page's schema.org
    ``ClaimReview`` in a JSON-LD script (``structured_data``)."""
    return structured_data.json_ld_script(
        structured_data.commitment_claim_review(commitment, last_changed=last_changed_on)
    )
