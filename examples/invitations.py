"""The example calendar API: sending an invitation to more than ten people waits for the person."""

from django.db import IntegrityError
from rest_framework import serializers
from rest_framework.views import APIView

from approvals import actions
from approvals.protect import RequiresApproval

from .models import Invitation

ASK_ABOVE = 10  # invitees; up to this many are sent at once (and still recorded as an approval)


class InvitationRequest(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    invitees = serializers.ListField(child=serializers.EmailField(), min_length=1, max_length=100)


class SentInvitation(serializers.Serializer):
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    invitees = serializers.ListField(child=serializers.EmailField())


class Invite(actions.Action):
    name = "calendar.invite"
    scope = "calendar:write"
    Request = InvitationRequest
    Result = SentInvitation

    def params(self, data):
        return {
            "title": data["title"],
            "starts_at": data["starts_at"].isoformat(),
            "invitees": sorted(set(data["invitees"])),
        }

    def describe(self, params):
        invitees = params["invitees"]
        who = ", ".join(invitees[:3]) + (f" and {len(invitees) - 3} more" if len(invitees) > 3 else "")
        return f"Invite {len(invitees)} people ({who}) to “{params['title']}” at {params['starts_at']}"

    def facts(self, params):
        return [
            ("Event", params["title"]),
            ("Starts", params["starts_at"]),
            ("Invitees", ", ".join(params["invitees"])),
        ]

    def needs_person(self, user, agent, params):
        return len(params["invitees"]) > ASK_ABOVE

    def run(self, approval, params):
        try:
            Invitation.objects.bulk_create(
                Invitation(
                    owner=approval.user,
                    title=params["title"],
                    starts_at=params["starts_at"],
                    invitee=invitee,
                    approval=approval,
                    created_by_agent=approval.agent.client_id,
                )
                for invitee in params["invitees"]
            )
        except IntegrityError:
            raise actions.ActionFailed("These invitations were already sent.") from None
        return {"invited": len(params["invitees"])}

    def present(self, approval):
        return {key: approval.params[key] for key in ("title", "starts_at", "invitees")}


INVITE = actions.register(Invite())


class InvitationList(RequiresApproval, APIView):
    """POST an invitation (calendar:write); more than ten invitees wait for the person."""

    critical_action = INVITE
