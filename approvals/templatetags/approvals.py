"""Template access to a person's pending approvals (the dashboard lives in consent, below us)."""

from django import template

from ..models import ApprovalRequest

register = template.Library()


@register.simple_tag
def pending_approvals(user):
    return list(ApprovalRequest.objects.live().for_person(user).select_related("agent").order_by("expires_at"))
