"""Fail closed: views and selectors reach scoped models only through ``restrict(...)``.

An AST scan of every ``views.py`` and ``selectors.py`` (and ``views/`` / ``selectors/``
packages) under ``kepu/``, and of every other module that serves a URL. It flags, for every model whose default manager is a
``ScopedQuerySet``:

- ``Model.objects.<anything but restrict>`` (also ``_default_manager``/``_base_manager``);
- ``get_object_or_404(Model, ...)`` / ``get_list_or_404(Model, ...)`` with the bare model.

A use that is safe because it only narrows an already restricted query (a ``pk__in``
subquery, a ``Prefetch`` below restricted rows, an ``OuterRef`` annotation) is allowed
when it says so: a ``# unscoped: <reason>`` comment on its line or the line above, or an
entry in ``ALLOWED`` below (for code written before this scan). Related managers of an
object already fetched through the gate (``wave.runs``) are not flagged.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps

from kepu.orgs.scoping import ScopedQuerySet

ROOT = Path(__file__).resolve().parents[2]
MANAGERS = {"objects", "_default_manager", "_base_manager"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}

# (file, enclosing function, model): why the unrestricted query cannot leak rows.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("kepu/plans/selectors.py", "_with_details", "TaskUnit"): "Prefetch below restricted tasks",
    ("kepu/plans/selectors.py", "_with_details", "Target"): "Prefetch below restricted tasks",
    ("kepu/plans/selectors.py", "task_ledger", "Section"): "section ids narrow restricted tasks",
    ("kepu/plans/selectors.py", "task_ledger", "Task"): "pk__in narrowing restricted tasks",
    ("kepu/plans/selectors.py", "task_ledger", "Target"): "pk__in narrowing restricted tasks",
    ("kepu/plans/selectors.py", "my_tasks", "Task"): "pk__in narrowing restricted tasks",
    ("kepu/survey/selectors.py", "wave_list", "Estimate"): "OuterRef on restricted waves",
    ("kepu/survey/selectors.py", "trend", "Estimate"): "ids of restricted waves",
    ("kepu/survey/selectors.py", "trend", "WaveTarget"): "ids of restricted waves",
    ("kepu/orgs/selectors.py", "organisation_match", "OrganisationAlias"): (
        "aliases of the candidates the caller restricted"
    ),
    ("kepu/orgs/selectors.py", "office_choices", "Organisation"): "superusers only",
    # the public portal: published activities and campaigns are public by design
    # (campaigns' selectors mark theirs with '# unscoped:')
    ("kepu/campaigns/public.py", "_public_campaign", "Campaign"): "public portal",
    ("kepu/campaigns/public.py", "portal_activity", "Activity"): "public: published only",
    ("kepu/campaigns/public.py", "portal_poster", "Activity"): "public: published only",
    ("kepu/campaigns/public.py", "portal_photo", "ActivityPhoto"): (
        "public: public photos of published activities"
    ),
    ("kepu/orgs/selectors.py", "acting_office", "Organisation"): (
        "pk chosen from the user's own office grants"
    ),
}


def scoped_model_names() -> set[str]:
    return {
        m.__name__
        for m in apps.get_models()
        if isinstance(m._default_manager.all(), ScopedQuerySet)
    }


def _url_callback_modules(patterns=None) -> set[str]:
    from django.urls import URLResolver, get_resolver

    modules: set[str] = set()
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            modules |= _url_callback_modules(p.url_patterns)
        else:
            view = getattr(p.callback, "view_class", p.callback)
            modules.add(view.__module__)
    return modules


def scanned_files() -> list[Path]:
    """Every views/selectors module, and every module that serves a URL (a public
    portal in ``public.py`` is a view module by another name)."""
    import sys

    files: set[Path] = set()
    for name in ("views", "selectors"):
        files.update((ROOT / "kepu").rglob(f"{name}.py"))
        files.update((ROOT / "kepu").rglob(f"{name}/*.py"))
    for module in _url_callback_modules():
        path = Path(getattr(sys.modules.get(module), "__file__", "") or "")
        if path.is_file() and (ROOT / "kepu") in path.resolve().parents:
            files.add(path.resolve())
    return sorted(files)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node.name
    return "<module>"


def _restricted_chain(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether the method chain starting at ``node`` calls ``restrict`` or is handed
    whole to ``get_in_scope(...)`` as its queryset."""
    top = node
    while True:
        parent = parents.get(top)
        if isinstance(parent, ast.Attribute) and parent.value is top:
            if parent.attr == "restrict":
                return True
        elif not (isinstance(parent, ast.Call) and parent.func is top):
            break
        top = parent
    parent = parents.get(top)
    if isinstance(parent, ast.Call) and parent.args and parent.args[0] is top:
        func = parent.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name == "get_in_scope"
    return False


def unscoped_uses(path: Path, models: set[str]) -> list[tuple[int, str, str, str]]:
    """(line, function, model, code) of every unrestricted use in ``path``."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    parents = _parents(tree)
    found = []
    for node in ast.walk(tree):
        model = None
        if (
            isinstance(node, ast.Attribute)
            and node.attr in MANAGERS
            and isinstance(node.value, ast.Name)
            and node.value.id in models
        ):
            if _restricted_chain(node, parents):
                continue
            model = node.value.id
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in SHORTCUTS
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in models
        ):
            model = node.args[0].id
        if model is None:
            continue
        line = node.lineno
        context = " ".join(lines[max(0, line - 2) : line])
        if "# unscoped:" in context:
            continue
        found.append((line, _function(node, parents), model, lines[line - 1].strip()))
    return found


def test_url_modules_are_scanned():
    names = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    assert "kepu/core/views.py" in names and "kepu/orgs/views.py" in names


def test_views_and_selectors_use_restrict():
    models = scoped_model_names()
    assert {"Organisation", "Plan", "Task", "Wave", "Membership"} <= models
    problems = []
    used_allowances = set()
    files = scanned_files()
    assert len(files) >= 6, files
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        for line, function, model, code in unscoped_uses(path, models):
            key = (rel, function, model)
            if key in ALLOWED:
                used_allowances.add(key)
                continue
            problems.append(f"{rel}:{line} in {function}(): {code}")
    assert not problems, (
        "Scoped models reached without restrict(user, action) — use "
        "Model.objects.restrict(...) or get_in_scope(...), or mark a pure narrowing "
        "subquery with '# unscoped: <reason>':\n" + "\n".join(problems)
    )
    stale = set(ALLOWED) - used_allowances
    assert not stale, f"allowances no longer needed (remove them): {sorted(stale)}"


def test_the_scan_catches_what_it_should(tmp_path):
    models = {"Plan", "Task"}
    bad = tmp_path / "views.py"
    bad.write_text(
        "from django.shortcuts import get_object_or_404\n"
        "def a(request, pk):\n"
        "    return get_object_or_404(Plan, pk=pk)\n"
        "def b(request):\n"
        "    return Plan.objects.filter(owner=1)\n"
        "def c(request):\n"
        "    return Task._default_manager.all()\n"
        "def d(request):\n"
        "    return Plan.objects.restrict(request.user, 'view')\n"
        "def e(request):\n"
        "    # unscoped: narrowing a restricted query\n"
        "    return Task.objects.filter(pk=1).values('pk')\n"
        "def f(request):\n"
        "    return Task.objects.values('pk')  # unscoped: narrowing\n"
        "def g(request, pk):\n"
        "    return get_in_scope(Task.objects.select_related('plan'), request.user, pk=pk)\n"
        "def h(request):\n"
        "    return Task.objects.select_related('plan').restrict(request.user)\n"
        "def i(request):\n"
        "    return other(Task.objects.select_related('plan'))\n",
        encoding="utf-8",
    )
    found = [(line, fn, model) for line, fn, model, _ in unscoped_uses(bad, models)]
    assert found == [(3, "a", "Plan"), (5, "b", "Plan"), (7, "c", "Task"), (20, "i", "Task")]
