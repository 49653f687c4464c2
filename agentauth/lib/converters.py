"""A URL path converter for client_ids, which may be URLs themselves (Client ID Metadata
Documents: `https://app.example/client.json`).

Reversing percent-encodes the whole id into one path segment (Django then encodes the `%`
again), and the server's single decoding of the path leaves exactly that segment, which
`to_python` decodes. An ordinary client_id (letters and digits) is unchanged either way."""

from urllib.parse import quote, unquote

from django.urls import register_converter


class ClientIdConverter:
    regex = "[^/]+"

    def to_python(self, value):
        return unquote(value)

    def to_url(self, value):
        return quote(str(value), safe="")


register_converter(ClientIdConverter, "client_id")
