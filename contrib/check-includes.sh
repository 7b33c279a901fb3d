#!/bin/sh
# check-includes.sh [BUILD] — fails when files depend on each other in a
# circle, which makes code hard to read in any order:
#   - an include cycle: headers that include each other, directly or round
#     a circle (include guards hide it from the compiler);
#   - a call cycle between files: a.o uses a symbol of b.o and b.o, directly
#     or round a circle, one of a.o (read from the objects of BUILD, default
#     build/, with nm; checked per program: the daemon, the client);
#   - a handler that writes to LMDB itself: the objects of daemon/modules and
#     daemon/rules must write through store.c, whose wrappers note every
#     write in the change set (the log's record, replication's stream, and
#     how the writer tells that a failed job wrote: writer.c write_apply).
# Prints each cycle found; exit 0 when there is none. tests/run.sh runs it.
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 - "${1:-build}" <<'EOF'
import collections, glob, os, re, subprocess, sys

build = sys.argv[1]
INCDIRS = ["protocol", "daemon/core", "daemon/modules", "daemon/rules", "client"]

def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))
    sys.setrecursionlimit(100000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out

def include_graph():
    files = [f for d in ("protocol", "daemon", "client", "contrib", "tests")
             for f in glob.glob(d + "/**/*.[ch]", recursive=True) + glob.glob(d + "/**/*.def", recursive=True)]
    graph = collections.defaultdict(set)
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    for f in files:
        with open(f, errors="replace") as fh:
            for line in fh:
                m = inc.match(line)
                if not m:
                    continue
                for d in [os.path.dirname(f)] + INCDIRS:
                    p = os.path.normpath(os.path.join(d, m.group(1)))
                    if os.path.exists(p):
                        graph[f].add(p)
                        break
    return graph

def call_graph(objs):
    defined, undefined = {}, {}
    for o in objs:
        out = subprocess.run(["nm", "-g", o], capture_output=True, text=True, check=True).stdout
        undefined[o] = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                undefined[o].add(parts[1])
            elif len(parts) == 3 and parts[1] not in "Uuvw":
                defined.setdefault(parts[2], o)
    graph = collections.defaultdict(set)
    for o in objs:
        for s in undefined[o]:
            if defined.get(s, o) != o:
                graph[o].add(defined[s])
    return graph

bad = 0
for c in cycles(include_graph()):
    print("include cycle: " + " -> ".join(c))
    bad += 1
programs = {
    "parceldeskd": glob.glob(build + "/daemon/*/*.o") + glob.glob(build + "/protocol/*.o"),
    "parceldesk": glob.glob(build + "/client/*.o") + glob.glob(build + "/protocol/*.o"),
}
for name, objs in programs.items():
    if not glob.glob(build + "/" + ("daemon" if name == "parceldeskd" else "client")):
        print("no objects of %s in %s: build first" % (name, build))
        bad += 1
        continue
    for c in cycles(call_graph(objs)):
        print("call cycle in %s: %s" % (name, " <-> ".join(os.path.relpath(o, build) for o in c)))
        bad += 1
RAW_WRITES = {"mdb_put", "mdb_del", "mdb_cursor_put", "mdb_cursor_del", "mdb_drop"}
for o in sorted(glob.glob(build + "/daemon/modules/*.o") + glob.glob(build + "/daemon/rules/*.o")):
    out = subprocess.run(["nm", "-u", o], capture_output=True, text=True, check=True).stdout
    raw = sorted(RAW_WRITES & {line.split()[-1] for line in out.splitlines() if line.strip()})
    if raw:
        print("%s writes to LMDB itself (%s): write through store.c" % (os.path.relpath(o, build), ", ".join(raw)))
        bad += 1
print("include and call cycles, raw writes: %d" % bad)
sys.exit(1 if bad else 0)
EOF
