"""The floors of docs/architecture.md: an app imports only from its own floor and the ones below."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. The project wiring (settings, urls, asgi, wsgi, celery) sits on top of them all.
FLOORS = [
    "agentauth.lib",
    "agentauth.audit",
    "agentauth.identity",
    "agentauth.consent",
    "agentauth.resource",
    "agentauth.monitoring",
    "agentauth.oauth",
    "portal",
    "passkeys",
    "approvals",
    "live",
    "examples",
    "agentauth",
]
PACKAGES = ["agentauth", "portal", "passkeys", "approvals", "live", "examples"]
MAX_LINES = 300
LONGER_ON_PURPOSE = {"agentauth/settings.py"}  # one settings module, every knob in one place


def floor_of(module):
    """The index of the most specific floor the module belongs to."""
    matches = [floor for floor in FLOORS if module == floor or module.startswith(floor + ".")]
    return FLOORS.index(max(matches, key=len)) if matches else None


def modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def test_no_module_imports_from_a_higher_floor():
    upward = []
    for path in modules():
        own = floor_of(module_name(path))
        for target in imports(path):
            if target.split(".")[0] not in PACKAGES:
                continue
            their = floor_of(target)
            if their is not None and their > own:
                upward.append(f"{module_name(path)} -> {target}")

    assert upward == []


def test_every_module_has_a_floor():
    assert [module_name(path) for path in modules() if floor_of(module_name(path)) is None] == []


@pytest.mark.parametrize("path", list(modules()), ids=lambda path: str(path.relative_to(ROOT)))
def test_modules_stay_small(path):
    if str(path.relative_to(ROOT)) in LONGER_ON_PURPOSE:
        return
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{lines} lines: split it by job"
