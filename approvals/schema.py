"""OpenAPI for the agent's approval status URL, an async Django view drf-spectacular cannot see."""

from agentauth.resource.schema import ERROR

APPROVAL_STATUS = {
    "type": "object",
    "properties": {
        "approval_id": {"type": "string"},
        "status": {
            "type": "string",
            "enum": ["pending", "approved", "denied", "expired", "cancelled", "executed", "failed"],
        },
        "action": {"type": "string"},
        "authorization_details": {"type": "array", "items": {"type": "object"}},
        "expires_at": {"type": "string", "format": "date-time"},
        "interval": {"type": "integer"},
        "result": {"type": "object", "nullable": True},
        "reason": {"type": "string"},
    },
    "required": ["approval_id", "status", "expires_at", "interval"],
}


def add_plain_views(result, generator, request, public):
    """The agent's status URL is an async Django view (for long-polling); describe it by hand."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(
        {"OAuthError": ERROR, "ApprovalStatus": APPROVAL_STATUS}
    )
    result["paths"]["/api/v1/approvals/{approval_id}"] = {
        "get": {
            "operationId": "approval_status",
            "summary": "The agent's view of its approval; ?wait=N long-polls up to N (≤ 30) seconds.",
            "parameters": [
                {"name": "approval_id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "wait", "in": "query", "required": False, "schema": {"type": "number", "maximum": 30}},
            ],
            "security": [{"agentToken": []}],
            "responses": {
                "200": {
                    "description": "the approval's state",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApprovalStatus"}}},
                },
                **{
                    code: {
                        "description": "error",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}},
                    }
                    for code in ("400", "401", "404", "503")
                },
            },
        }
    }
    return result
