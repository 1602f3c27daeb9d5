#!/usr/bin/env python3
"""Checks the module layering of DESIGN.md §2 on #include lines.

A file under src/cairn/<module>/ may include headers of its own module and of the modules listed
for it below (its lower layers). Tests, benchmarks and fuzzers may also include cairn/testing/.
A header named *_internal.h may be included only from its own module. New modules must be added
here, which keeps the layering a deliberate decision.
"""
import pathlib
import re
import sys

# module -> modules it may use (transitively closed by hand: keep it readable).
ALLOWED = {
    "common": set(),
    "testing": {"common", "io", "http", "httpd", "manifest", "objstore", "sql"},
    "io": {"common"},
    "http": {"common", "io"},
    "httpd": {"common", "io", "http"},
    "sql": {"common", "io"},
    "manifest": {"common"},
    "objstore": {"common", "io", "http"},
    # Services and the client sit side by side and meet only over HTTP (DESIGN.md §2).
    "metadata": {"common", "io", "http", "httpd", "manifest", "sql"},
    "blockstore": {"common", "io", "http", "httpd", "manifest", "objstore"},
    "client": {"common", "io", "http", "manifest", "objstore"},
    "mount": {"common", "io", "http", "manifest", "objstore", "client"},
    "cli": {"common", "io", "http", "httpd", "sql", "manifest", "objstore", "metadata",
            "blockstore", "client", "mount"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"cairn/([a-z0-9_]+)/([^"]+)"', re.M)
TEST_FILE = re.compile(r"_(test|benchmark|fuzzer)\.cc$")


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent / "src" / "cairn"
    errors = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        module = path.relative_to(root).parts[0]
        if module not in ALLOWED:
            errors.append(f"{path}: module '{module}' is not declared in scripts/check-layers.py")
            continue
        allowed = ALLOWED[module] | {module}
        if TEST_FILE.search(path.name):
            allowed = allowed | {"testing"}
        text = path.read_text(encoding="utf-8")
        for m in INCLUDE.finditer(text):
            dep, header = m.group(1), m.group(2)
            line = text.count("\n", 0, m.start()) + 1
            if dep not in allowed:
                errors.append(f"{path}:{line}: module '{module}' may not include cairn/{dep}/{header}"
                              f" (allowed: {', '.join(sorted(allowed))})")
            elif header.endswith("_internal.h") and dep != module:
                errors.append(f"{path}:{line}: cairn/{dep}/{header} is internal to module '{dep}'")
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        return 1
    print(f"check-layers: ok ({len(ALLOWED)} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
