import factory
from django.contrib.auth import get_user_model


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


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
