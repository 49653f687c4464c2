"""Write REFERENCE.md, the API reference, from the package's docstrings and signatures.

python tools/reference.py          # rewrite REFERENCE.md
python tools/reference.py --check  # exit 1 when REFERENCE.md is out of date
"""

import argparse
import functools
import inspect
import sys
from pathlib import Path

import agentauth_client
from agentauth_client import cli

OUTPUT = Path(__file__).resolve().parents[1] / "REFERENCE.md"
SECTIONS = {
    "Clients": ["Client", "AsyncClient"],
    "Values": ["Token", "Result", "Approval", "DeviceAuthorization", "CibaRequest", "ServerMetadata"],
    "Keys": ["DPoPKey", "SigningKey"],
    "Resource servers": ["TokenVerifier", "AsyncTokenVerifier", "Claims", "ReplayCache"],
}
SKIPPED_MEMBERS = {"from_response", "from_dict"}


def signature(callable_, name):
    try:
        found = inspect.signature(callable_, eval_str=True)
    except (NameError, TypeError, ValueError):
        found = inspect.signature(callable_)
    parameters = [p for p in found.parameters.values() if p.name != "self"]
    text = str(found.replace(parameters=parameters))
    for prefix in (
        "typing.",
        "collections.abc.",
        "agentauth_client.models.",
        "agentauth_client.keys.",
        "agentauth_client.resource.",
    ):
        text = text.replace(prefix, "")
    return f"{name}{text}"


def doc(thing):
    return inspect.cleandoc(thing.__doc__) if thing.__doc__ else ""


def members(cls):
    for name, member in cls.__dict__.items():
        if name.startswith("_") or name in SKIPPED_MEMBERS:
            continue
        if isinstance(member, property):
            yield f"`{name}` (property)", member.fget
        elif inspect.isfunction(member) or isinstance(member, classmethod | staticmethod):
            function = getattr(cls, name)  # bound for a classmethod: no `cls` in the signature
            yield f"`{signature(function, name)}`", function


def _own_init(cls):
    """Whether the package (not object or Exception) defines how `cls` is built, maybe in a base."""
    return any("__init__" in vars(base) for base in cls.__mro__ if base.__module__.startswith("agentauth_client"))


def render_class(name):
    cls = getattr(agentauth_client, name)
    lines = [f"### `{name}`", ""]
    if _own_init(cls) or hasattr(cls, "__dataclass_fields__"):
        lines += ["```python", signature(cls, name), "```", ""]
    lines += [doc(cls), ""]
    for title, function in members(cls):
        text = doc(function).replace("\n", "\n  ")  # continuation lines stay in the list item
        lines += [f"- {title}" + (f": {text}" if text else "")]
    return [*lines, ""]


def render():
    lines = [
        "# agentauth-client API reference",
        "",
        "Generated from the docstrings by `python tools/reference.py`; do not edit by hand.",
        "",
        doc(agentauth_client),
        "",
    ]
    for section, names in SECTIONS.items():
        lines += [f"## {section}", ""]
        for name in names:
            lines += render_class(name)
    lines += ["## Errors", "", "```"]
    errors = [name for name in agentauth_client.__all__ if inspect.isclass(getattr(agentauth_client, name))]
    errors = [
        getattr(agentauth_client, name) for name in errors if issubclass(getattr(agentauth_client, name), Exception)
    ]
    for error in sorted(errors, key=lambda cls: [c.__name__ for c in reversed(cls.__mro__[:-2])]):
        depth = len([c for c in error.__mro__ if issubclass(c, agentauth_client.AgentAuthError)]) - 1
        lines.append(f"{'    ' * depth}{error.__name__}: {doc(error).splitlines()[0]}")
    command = cli.parser()
    command.formatter_class = functools.partial(argparse.HelpFormatter, width=100)  # not the terminal's
    lines += ["```", "", "## The `agentauth` command", "", "```", command.format_help().rstrip(), "```", ""]
    lines += [doc(cli), ""]
    return "\n".join(lines)


def main(argv):
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.name} is out of date: run python clients/python/tools/reference.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
