import functools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

PASSWORD = "correct horse battery staple"


@functools.cache
def password_hash():
    """The product's PBKDF2 costs a third of a second per hash: the test people share one. It is
    still a real hash, so signing in checks it exactly as in production."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.LazyFunction(password_hash)


# A paying agent: it reads documents, and pays (every payment may ask its person first).
PAYER_SCOPES = ("payments:execute", "payments:read", "documents:read")


def owned_agent(person, name, scopes=("documents:read", "documents:write")):
    """The person's own headless agent with a standing grant of `scopes`, its secret at hand."""
    from agentauth.oauth.registration import register_agent

    agent, secret = register_agent(
        name=name, owner=person, grant_types=["client_credentials"], grant_scopes=list(scopes)
    )
    agent.plain_secret = secret
    return agent
