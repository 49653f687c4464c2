"""OpenAPI pieces drf-spectacular cannot infer: bearer authentication and the error body."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "agentauth.resource.authentication.JWTAuthentication"
    name = "agentToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (RFC 9068 at+jwt)"}


ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string", "nullable": True}},
    "required": ["error"],
}


def errors(*codes):
    """Inline OpenAPI responses for the RFC 6749/6750-style error body under each status code."""
    from drf_spectacular.utils import OpenApiResponse

    body = {"type": "object", "properties": ERROR["properties"], "additionalProperties": True}
    return {int(code): OpenApiResponse(response=body, description="error") for code in codes}
