"""Reading the Authorization header: the one place that splits a scheme from its credentials."""


def credentials(request, scheme):
    """The credentials of `Authorization: <scheme> <credentials>` (RFC 9110 §11.6.2; the scheme is
    case-insensitive): None without the header, "" when it names another scheme or carries nothing."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    name, _, value = header.partition(" ")
    return value.strip() if name.lower() == scheme.lower() else ""
