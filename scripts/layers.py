#!/usr/bin/env python3
"""Checks that mgrd's files call only downward (docs/design.md, "Layers").

Each module (a .c file and its .h, by stem) belongs to one layer; a file may
include headers of its own layer or of layers below it, never above, and no
modules may include each other in a circle, even within a layer. A module
missing from the table is an error too, so a new file has to be given its
place. Exit status 1 on any
violation, listing each as file -> header (layer -> layer)."""
import os
import re
import sys

LAYERS = [
    ("base", "idmap log stats type types object state row conn-state pgroup"),
    ("transport", "conn conn-batch conn-poll conn-ring sock-poll admit auth tls listen-tcp"),
    ("objects", "registry"),
    ("sessions", "session"),
    ("calls", "call args park pool policy"),
    ("dispatch", "dispatch call-create"),
    ("types", "sync type-counter type-dict type-list type-namespace type-iterator type-lock type-semaphore type-event "
              "type-condition type-barrier type-queue type-pipe custom types-builtin rows gc"),
    ("services", "type-manager type-manager-views type-manager-repr manager monitor snapshot"),
    ("main", "loop server main module activation watchdog"),
]
RANK = {m: i for i, (_, mods) in enumerate(LAYERS) for m in mods.split()}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)\.h"', re.M)


def circles(graph):
    """Module pairs (or longer loops) that include each other, even inside
    one layer: where a call can come back up and a teardown re-enter."""
    found, state = [], {}

    def visit(m, path):
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                found.append(" -> ".join(path[path.index(n):] + [n]))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return found


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mgrd")
    bad, graph = [], {}
    for name in sorted(os.listdir(root)):
        stem, ext = os.path.splitext(name)
        if ext not in (".c", ".h"):
            continue
        if stem not in RANK:
            bad.append(f"{name}: not in any layer (scripts/layers.py)")
            continue
        with open(os.path.join(root, name)) as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            if inc != stem:
                graph.setdefault(stem, set()).add(inc)
            if inc not in RANK:
                bad.append(f"{name} -> {inc}.h: header not in any layer")
            elif RANK[inc] > RANK[stem]:
                bad.append(f"{name} -> {inc}.h ({LAYERS[RANK[stem]][0]} -> "
                           f"{LAYERS[RANK[inc]][0]})")
    bad += [f"include circle: {c}" for c in circles(graph)]
    for line in bad:
        print("layers:", line)
    if not bad:
        print(f"layers: {len(RANK)} modules in {len(LAYERS)} layers, every include downward, "
              "no circles")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
