"""The view matrix generated from the URL resolver (see tests/matrix.py).

Every named URL of the project must have a row in ``MATRIX`` (or belong to a namespace
in ``NAMESPACES``); every row is requested as every user of the ``world`` fixture and
anonymous, and the status must be exactly the expected one.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.matrix import CASES, MATRIX, NAMESPACES, MatrixData, check_row


def url_names(patterns=None, namespace: str | None = None) -> list[str]:
    """Every named URL pattern, namespaced as ``reverse`` takes it."""
    names = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace
            inner = f"{namespace}:{ns}" if namespace and ns else ns or namespace
            names.extend(url_names(p.url_patterns, inner))
        elif isinstance(p, URLPattern):
            if p.name:
                names.append(f"{namespace}:{p.name}" if namespace else p.name)
    return names


def unnamed_patterns(patterns=None, prefix: str = "") -> list[str]:
    found = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            if p.namespace not in NAMESPACES:
                found.extend(unnamed_patterns(p.url_patterns, prefix + str(p.pattern)))
        elif not p.name:
            found.append(prefix + str(p.pattern))
    return found


def test_every_url_has_a_matrix_row():
    names = set(url_names())
    covered = set(MATRIX) | {n for n in names if n.split(":")[0] in NAMESPACES}
    missing = sorted(names - covered)
    assert not missing, (
        "URLs without a row in tests/matrix.py MATRIX (add one line each): " + ", ".join(missing)
    )
    stale = sorted(set(MATRIX) - names)
    assert not stale, f"rows for URLs that no longer exist: {stale}"
    assert unnamed_patterns() == [], "every URL pattern needs a name to be in the matrix"


@pytest.fixture
def matrix_data(world, settings, tmp_path, monkeypatch):
    from kepu.campaigns import services as campaign_services
    from tests.campaigns.conftest import TODAY

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(campaign_services, "_today", lambda: TODAY)
    return MatrixData(world)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_url_matrix(client, world, matrix_data, name):
    wrong = check_row(client, world, matrix_data, name, MATRIX[name])
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_namespace_matrix(client, world, matrix_data, namespace):
    name, row_ = NAMESPACES[namespace]
    wrong = check_row(client, world, matrix_data, name, row_)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_matrix(client, world, matrix_data, case):
    name, row_ = CASES[case]
    wrong = check_row(client, world, matrix_data, name, row_)
    assert not wrong, "\n".join(wrong)
