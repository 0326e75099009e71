"""The package dependency order of img2img (docs/design.md): no module imports one of a higher
layer, and no modules import each other in a circle. Every import counts, also those inside
functions (a deferred import is still a dependency), read from the source without running it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "img2img"

# Lowest first. A module may import its own layer and those below. Model kinds (img2img/kinds/)
# are two layers: their declarations (kinds/NAME.py, kinds/NAME/__init__.py, base.py), which the
# config schema is built from, sit just above the shared config sections; the parts a kind names
# by "module:attribute" (kinds/NAME/module.py, examples.py, ...) are loaded only when used and
# sit above the models they build on.
LAYERS = [
    ["img2img", "img2img.errors", "img2img.builtin"],
    ["img2img.io", "img2img.nets", "img2img.segmentation"],
    ["img2img.config.sections"],
    ["img2img.kinds:declarations"],
    ["img2img.config"],
    ["img2img.data"],
    ["img2img.models"],
    ["img2img.kinds:parts"],
    ["img2img.inference"],
    ["img2img.evaluation"],
    ["img2img.training"],
    ["img2img.export", "img2img.tracking"],
    ["img2img.demo", "img2img.cli", "img2img.__main__"],
    ["img2img.studies"],
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """img2img modules `path` imports: `from img2img.x import y` is img2img.x.y where that is a
    module, else img2img.x (a name the package's __init__ gives)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "img2img"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "img2img":
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return found


def all_modules() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: {m for m in imports(path, set(paths)) if m in paths and m != name} for name, path in paths.items()}


def layer_of(module: str) -> int:
    if module.startswith("img2img.kinds"):
        parts = module.split(".")
        is_part = len(parts) == 4 and parts[2] != "base"  # img2img.kinds.NAME.PART
        module = "img2img.kinds:parts" if is_part else "img2img.kinds:declarations"
    best, level = -1, None
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    assert level is not None, f"{module}: in no layer of tests/test_layers.py; add its package there"
    return level


def test_no_module_imports_a_higher_layer():
    upward = [f"{a} (layer {layer_of(a)}) imports {b} (layer {layer_of(b)})"
              for a, targets in all_modules().items() for b in sorted(targets) if layer_of(b) > layer_of(a)]
    assert not upward, "\n".join(upward)


def test_no_import_circles():
    graph = all_modules()
    circles = set()
    for start in graph:  # depth-first search for a path back to `start`
        stack = [(start, (start,))]
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.add(frozenset(path))
                elif nxt not in path and nxt > start:  # each circle found once, from its smallest member
                    stack.append((nxt, path + (nxt,)))
    assert not circles, [sorted(c) for c in circles]


def test_the_library_imports_no_study():
    """The studies (img2img/studies/) use the library; the library never needs them."""
    users = [a for a, targets in all_modules().items()
             if not a.startswith("img2img.studies") and any(t.startswith("img2img.studies") for t in targets)]
    assert not users, users
