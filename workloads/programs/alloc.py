# alloc.py — an allocation-heavy Python workload for the programs suite: builds and drops
# dicts, lists, strings and small objects of many sizes (CPython's small-object allocator
# serves up to 512 bytes, malloc the rest), deterministic, prints a checksum.
import sys

class Node:
    __slots__ = ("key", "val", "kids")

    def __init__(self, key, val):
        self.key = key
        self.val = val
        self.kids = []

def build(depth, seed):
    root = Node(seed, str(seed) * (seed % 7 + 1))
    level = [root]
    for d in range(depth):
        nxt = []
        for n in level:
            for k in range(3):
                c = Node(n.key * 3 + k, "x" * ((n.key + k) % 600))
                n.kids.append(c)
                nxt.append(c)
        level = nxt
    return root

def walk(n):
    s = len(n.val) + n.key
    for c in n.kids:
        s += walk(c)
    return s

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
total = 0
keep = []
for r in range(rounds):
    t = build(8, r)
    total += walk(t)
    d = {("k%d" % i): [i] * (i % 50) for i in range(20000)}
    total += sum(len(v) for v in d.values())
    keep.append(bytearray(64 * 1024 * (r % 8 + 1)))
    if len(keep) > 6:
        keep.pop(0)
print(total % 1000000007)
