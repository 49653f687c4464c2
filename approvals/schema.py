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


APPROVAL_LIST = {
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "allOf": [
                    {"$ref": "#/components/schemas/ApprovalStatus"},
                    {
                        "type": "object",
                        "properties": {
                            "status_url": {"type": "string", "format": "uri"},
                            "created_at": {"type": "string", "format": "date-time"},
                        },
                        "required": ["status_url", "created_at"],
                    },
                ]
            },
        }
    },
    "required": ["results"],
}


def _errors(*codes):
    return {
        code: {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}},
        }
        for code in codes
    }


def add_plain_views(result, generator, request, public):
    """The agent's status URL and list are async Django views (for long-polling); describe them by hand."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(
        {"OAuthError": ERROR, "ApprovalStatus": APPROVAL_STATUS, "ApprovalList": APPROVAL_LIST}
    )
    result["paths"]["/api/v1/approvals/"] = {
        "get": {
            "operationId": "approval_list",
            "summary": "The calling agent's latest approvals for its person, newest first.",
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": APPROVAL_STATUS["properties"]["status"]["enum"]},
                },
            ],
            "security": [{"agentToken": []}],
            "responses": {
                "200": {
                    "description": "the agent's approvals",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApprovalList"}}},
                },
                **_errors("400", "401", "503"),
            },
        }
    }
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
                **_errors("400", "401", "404", "503"),
            },
        }
    }
    return result
