#!/usr/bin/env python3
"""Checks that mgrd's files call only downward (docs/design.md, "Layers").

Each module (a .c file and its .h, by stem) belongs to one layer; a file may
include headers of its own layer or of layers below it, never above. Within
a layer, modules may include each other. A module missing from the table is
an error too, so a new file has to be given its place. Exit status 1 on any
violation, listing each as file -> header (layer -> layer)."""
import os
import re
import sys

LAYERS = [
    ("base", "idmap log stats type types object state row"),
    ("transport", "conn conn-poll conn-ring admit auth tls listen-tcp"),
    ("objects", "registry"),
    ("sessions", "session"),
    ("calls", "call args park pool policy"),
    ("dispatch", "dispatch"),
    ("types", "sync type-counter type-dict type-list type-namespace type-iterator type-lock type-semaphore type-event "
              "type-condition type-barrier type-queue type-pipe custom types-builtin rows gc"),
    ("services", "type-manager type-manager-views type-manager-repr manager monitor snapshot"),
    ("main", "server main module activation"),
]
RANK = {m: i for i, (_, mods) in enumerate(LAYERS) for m in mods.split()}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)\.h"', re.M)


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mgrd")
    bad = []
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
            if inc not in RANK:
                bad.append(f"{name} -> {inc}.h: header not in any layer")
            elif RANK[inc] > RANK[stem]:
                bad.append(f"{name} -> {inc}.h ({LAYERS[RANK[stem]][0]} -> "
                           f"{LAYERS[RANK[inc]][0]})")
    for line in bad:
        print("layers:", line)
    if not bad:
        print(f"layers: {len(RANK)} modules in {len(LAYERS)} layers, every include downward")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
