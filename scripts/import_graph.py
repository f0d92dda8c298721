#!/usr/bin/env python3
"""Import graph of a repository's own packages, and every cycle in it, from the source (ast; nothing is imported).

    python import_graph.py REPO                 # cycles between modules and between packages; exit 1 if any
    python import_graph.py REPO --edges         # also print every edge (module -> module, kind, file:line)
    python import_graph.py REPO --list          # also print each module's imports on one line
    python import_graph.py REPO --import-time   # count only imports that run at import time
    python import_graph.py REPO --depth 2       # packages are bot.outbound, bot.cli, ... instead of bot, dialogs, ...
    python import_graph.py REPO --own bot.cli   # bot.cli counts as a package of its own (not part of bot)

First-party packages are the top-level directories of REPO that hold an __init__.py (tests/ and
scripts/ have none and are left out). Each import is tagged with where it sits:

    top     module level: runs when the module is imported
    lazy    inside a function or method: runs when that is called
    typing  under `if TYPE_CHECKING:`: never runs

By default every kind counts. A lazy or typing-only import still ties the two modules together
(it only hides the cycle from Python, not from the reader), so the layout test should use the default.

To keep cycles out for good, a test can do:

    from import_graph import build, cycles
    graph = build(REPO)
    assert cycles(graph.modules) == [] and cycles(graph.packages(1)) == []
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("top", "lazy", "typing")


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, dotted
    target: str  # imported module (or package __init__), dotted
    kind: str  # top, lazy, typing
    where: str  # path:line


@dataclass
class Graph:
    root: Path
    own: tuple[str, ...] = ()  # subpackages counted as packages of their own (e.g. "bot.cli")
    modules_found: set[str] = field(default_factory=set)
    packages_found: set[str] = field(default_factory=set)
    edges: list[Edge] = field(default_factory=list)

    def selected(self, kinds: tuple[str, ...] = KINDS) -> list[Edge]:
        return [e for e in self.edges if e.kind in kinds and e.source != e.target]

    @property
    def modules(self) -> dict[str, dict[str, list[Edge]]]:
        return self.module_graph()

    def module_graph(self, kinds: tuple[str, ...] = KINDS) -> dict[str, dict[str, list[Edge]]]:
        graph: dict[str, dict[str, list[Edge]]] = {m: {} for m in self.modules_found}
        for edge in self.selected(kinds):
            graph[edge.source].setdefault(edge.target, []).append(edge)
        return graph

    def package_of(self, module: str, depth: int) -> str:
        """The package holding a module, at most `depth` names deep (a package's __init__ belongs to it)."""
        for prefix in self.own:
            if module == prefix or module.startswith(prefix + "."):
                return prefix
        parts = module.split(".")
        holder = parts if module in self.packages_found else parts[:-1]
        return ".".join(holder[:depth]) or parts[0]

    def packages(self, depth: int = 1, kinds: tuple[str, ...] = KINDS) -> dict[str, dict[str, list[Edge]]]:
        graph: dict[str, dict[str, list[Edge]]] = defaultdict(dict)
        for module in self.modules_found:
            graph[self.package_of(module, depth)]
        for edge in self.selected(kinds):
            a, b = self.package_of(edge.source, depth), self.package_of(edge.target, depth)
            if a != b:
                graph[a].setdefault(b, []).append(edge)
        return dict(graph)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _first_party(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()
                  and not p.name.startswith("."))


class _Visitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.found: list[tuple[str, str | None, int, str]] = []  # (module, name or None, line, kind)
        self._function_depth = 0
        self._typing_depth = 0

    def _kind(self) -> str:
        if self._typing_depth:
            return "typing"
        return "lazy" if self._function_depth else "top"

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self._function_depth += 1
        self.generic_visit(node)
        self._function_depth -= 1

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        is_typing = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
        if not is_typing:
            self.generic_visit(node)
            return
        self._typing_depth += 1
        for child in node.body:
            self.visit(child)
        self._typing_depth -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append((alias.name, None, node.lineno, self._kind()))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, node.module] if node.module else package)
        else:
            base = node.module or ""
        for alias in node.names:
            self.found.append((base, alias.name, node.lineno, self._kind()))


def build(root: Path | str, own: tuple[str, ...] = ()) -> Graph:
    root = Path(root).resolve()
    graph = Graph(root, tuple(own))
    tops = _first_party(root)
    files: dict[str, Path] = {}
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            name = _module_name(root, path)
            files[name] = path
            graph.modules_found.add(name)
            if path.name == "__init__.py":
                graph.packages_found.add(name)

    def resolve(base: str, name: str | None) -> str | None:
        if base.split(".")[0] not in tops:
            return None
        if name and f"{base}.{name}" in graph.modules_found:  # from bot import openid
            return f"{base}.{name}"
        candidate = base
        while candidate and candidate not in graph.modules_found:  # import a.b.c where only a.b exists
            candidate = candidate.rpartition(".")[0]
        return candidate or None

    for name, path in files.items():
        visitor = _Visitor(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for base, imported, line, kind in visitor.found:
            target = resolve(base, imported)
            if target is not None:
                graph.edges.append(Edge(name, target, kind, f"{path.relative_to(root)}:{line}"))
    graph.edges = list(dict.fromkeys(graph.edges))  # `from x import a, b` is one edge, not two
    return graph


def _strongly_connected(graph: dict[str, dict]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components with more than one node, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _shortest_cycle(graph: dict[str, dict], component: list[str]) -> list[str]:
    """One shortest cycle through the component's first node (breadth-first), as a closed path."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child in members and child not in seen:
                    seen.add(child)
                    previous[child] = node
                    following.append(child)
        frontier = following
    return component


def cycles(graph: dict[str, dict]) -> list[list[str]]:
    """Each cycle as a closed path (a -> b -> a), one per strongly connected component."""
    return [_shortest_cycle(graph, component) for component in _strongly_connected(graph)]


def _describe(graph: dict[str, dict[str, list[Edge]]], title: str, out) -> int:
    components = _strongly_connected(graph)
    print(f"{title}: {len(components)} cycle(s)", file=out)
    for component in components:
        path = _shortest_cycle(graph, component)
        print(f"  - {' -> '.join(path)}", file=out)
        if len(component) > len(path) - 1:
            print(f"    (all tied together: {', '.join(component)})", file=out)
        inside = set(component)
        for source in component:
            for target, edges in sorted(graph[source].items()):
                if target not in inside:
                    continue
                pairs: dict[tuple[str, str], list[Edge]] = {}
                for edge in edges:
                    pairs.setdefault((edge.source, edge.target), []).append(edge)
                print(f"      {source} -> {target}:", file=out)
                for (a, b), found in sorted(pairs.items()):
                    lines = ", ".join(f"{e.kind} {e.where}" for e in found)
                    print(f"          {a} -> {b}  ({lines})", file=out)
    return len(components)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--import-time", action="store_true", help="only imports that run at import time (top)")
    parser.add_argument("--depth", type=int, default=1, help="package granularity (1: bot, dialogs, ...)")
    parser.add_argument("--own", action="append", default=[], metavar="PACKAGE",
                        help="count this subpackage as a package of its own (repeatable), e.g. --own bot.cli")
    parser.add_argument("--edges", action="store_true", help="print every edge")
    parser.add_argument("--list", action="store_true", help="print each module's imports on one line")
    args = parser.parse_args(argv)
    graph = build(args.repo, tuple(args.own))
    kinds = ("top",) if args.import_time else KINDS
    if args.edges:
        for edge in sorted(graph.selected(kinds), key=lambda e: (e.source, e.target, e.where)):
            print(f"{edge.source} -> {edge.target}  [{edge.kind}] {edge.where}")
        print()
    if args.list:
        for module, targets in sorted(graph.module_graph(kinds).items()):
            shown = []
            for target, edges in sorted(targets.items()):
                kinds_seen = sorted({e.kind for e in edges} - {"top"})
                shown.append(target + (f" ({'/'.join(kinds_seen)})" if kinds_seen and "top" not in {e.kind for e in edges} else ""))
            print(f"{module}: {', '.join(shown) or '-'}")
        print()
    label = "import-time imports" if args.import_time else "all imports (top, lazy, typing)"
    count = _describe(graph.module_graph(kinds), f"modules, {label}", sys.stdout)
    print()
    count += _describe(graph.packages(args.depth, kinds), f"packages (depth {args.depth}), {label}", sys.stdout)
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main())
