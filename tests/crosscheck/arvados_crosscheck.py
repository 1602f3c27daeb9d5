#!/usr/bin/env python3
"""Independent cross-check of Cairn's manifest code against the Arvados algorithms.

Usage: python3 tests/crosscheck/arvados_crosscheck.py PATH/TO/cairn [--seed S] [--count N]
       (--case K reruns one random case and its mutant; --help lists the other options)

Three Arvados behaviours are re-implemented here from the Arvados sources (not from Cairn's C++),
read at github:arvados/arvados commit 913e36393d0d754b392a8150d7ca766f5d2d3bc0:

* Rails PDH -- services/api/app/models/collection.rb (portable_manifest_text, compute_pdh,
  munge_manifest_locators) with Keep::Locator::LOCATOR_REGEXP from sdk/ruby/lib/arvados/keep.rb:
  every word after the first of a line that is a locator becomes hash(+size); md5 + "+" + length.
* Ruby validator -- Keep::Manifest.validate! in sdk/ruby/lib/arvados/keep.rb, including Ruby's
  regexp semantics (^ and $ are line anchors) and the Rails UTF-8 check (check_encoding).
* Python SDK reading and normalized writing -- Collection._import_manifest, find_or_create,
  _get_manifest_text(normalize=True), Subcollection's empty-directory marker
  (sdk/python/arvados/collection.py); ArvadosFile._add_segment (sdk/python/arvados/arvfile.py);
  locators_and_ranges/first_block, escape, normalize_stream (sdk/python/arvados/_internal/streams.py);
  KeepLocator's hint checks (sdk/python/arvados/keep.py). Normalized text: tree order (a
  directory's files first, then its subdirectories, names sorted), per stream each distinct locator
  token once in order of first use by the sorted files, segments of one file that are contiguous in
  the new stream merged, a file without data written 0:0:name, an empty directory written
  "<dir> d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056", an empty collection written "".
  Cairn's writer is meant to follow this (not Go's marshalManifest, which repeats non-adjacent
  blocks); the segment merging is the Python SDK's and is modelled here.

Random manifests (seeded, reproducible) are generated inside Cairn's stricter rules (lowercase
32-hex hashes with a size, sizes <= 67108864, segments inside their stream) and every one is
checked: `cairn manifest pdh` = Rails PDH; `cairn manifest validate -q` exits 0 and the Ruby
validator agrees; `cairn manifest normalize` = Python SDK normalization byte for byte; normalize is
idempotent; the normalized text passes the Ruby validator. Fixed vectors add the Arvados test-suite
PDH and normalization vectors, the Ruby validator's valid and invalid vectors (an invalid one must
make validate exit 1 with "line " in its message) and a few more read off the Ruby regexps.
Mutants (one or two random byte edits of each random manifest) give a validator differential:
when the Ruby validator rejects one, Cairn must reject it too; when it accepts one that is inside
Cairn's rules, it gets all the checks above.

The generator stays away from three inputs on which the Python SDK itself is broken (they are
Python-SDK bugs, not format rules; see --sdk-quirks to generate them anyway):
  - a zero-length block other than a single leading one or trailing ones in a stream with data:
    first_block()'s bisection cannot land on a zero-length block and can drop data, and
    locators_and_ranges() lists zero-length blocks that a segment spans;
  - octal escapes of bytes >= 0x80: _unescape_manifest_path() turns each into one code point
    (U+0080..U+00FF), not a byte, so UTF-8 spelled with escapes becomes mojibake;
  - Unicode whitespace (U+00A0, U+2003, ...) in names: the SDK tokenizes with str-mode \\s+.

Output: one line per failed check (seed, case and a minimized reproducer saved under a temporary
directory), then `crosscheck: N passed, M failed`. Exit status 1 if anything failed.
Python 3 standard library only.
"""

import argparse
import hashlib
import os
import posixpath
import random
import re
import subprocess
import sys
import tempfile
import time

EMPTY_LOCATOR = "d41d8cd98f00b204e9800998ecf8427e+0"
MAX_BLOCK = 67108864


# --------------------------------------------------------------------------------------------
# Rails: portable data hash
# --------------------------------------------------------------------------------------------

# Keep::Locator::LOCATOR_REGEXP (size optional, hint type an upper-case letter); the POSIX classes
# are taken as ASCII here (Ruby's [[:upper:]]/[[:alnum:]] are Unicode-aware, which only matters
# for non-ASCII hint text, never generated).
RUBY_LOCATOR_B = re.compile(rb"([0-9A-Fa-f]{32})(\+([0-9]+))?((\+([A-Z][A-Za-z0-9@_-]*))+)?\Z")
RUBY_LOCATOR_S = re.compile(r"([0-9A-Fa-f]{32})(\+([0-9]+))?((\+([A-Z][A-Za-z0-9@_-]*))+)?\Z")


def ruby_each_line(text):
    """Ruby String#each_line: pieces ending after each "\\n" (the last one may lack it)."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text) if isinstance(text, str) else \
        re.findall(rb"[^\n]*\n|[^\n]+\Z", text)


def rails_pdh(text: bytes) -> str:
    # Re-split with Ruby's each_line semantics (bytes.splitlines would also split on \r, \v...).
    if text == b"":
        portable = b""
    else:
        out_lines = []
        for line in ruby_each_line(text):
            words = line.rstrip(b" \t\n\v\f\r\x00").split()
            kept = []
            for w in words:
                m = RUBY_LOCATOR_B.match(w) if kept else None
                kept.append(m.group(1) + (m.group(2) or b"") if m else w)
            out_lines.append(b" ".join(kept))
        portable = b"\n".join(out_lines) + b"\n"
    return "%s+%d" % (hashlib.md5(portable).hexdigest(), len(portable))


# --------------------------------------------------------------------------------------------
# Ruby: Keep::Manifest.validate! (plus Rails check_encoding)
# --------------------------------------------------------------------------------------------

# Ruby's ^ and $ are line anchors: re.M gives Python the same meaning. [[:digit:]] -> \d.
R_STREAM_TOKEN = re.compile(r"^([^\x00-\x20\\]|\\[0-3][0-7][0-7])+$", re.M)
R_STREAM_NAME = re.compile(r"^(\.)(\/[^\/]+)*$", re.M)
R_DOT_COMPONENT = re.compile(r"\/\.\.?(\/|$)", re.M)
R_EMPTY_DIR = re.compile(r"^0:0:\.$", re.M)
R_FILE_TOKEN = re.compile(r"^\d+:\d+:([^\x00-\x20\\]|\\[0-3][0-7][0-7])+$", re.M)
R_FILE_NAME = re.compile(r"^\d+:\d+:([^\/]+(\/[^\/]+)*)$", re.M)
R_NON_8BIT = re.compile(r"[^\\]\\[4-7][0-7][0-7]", re.M)
R_UNESCAPE = re.compile(r"\\(\\|[0-7]{3})")


class RubyError(Exception):
    pass


def ruby_unescape(s):
    if s is None:
        return None

    def repl(m):
        if m.group(1) == "\\":
            return "\\"
        v = int(m.group(1), 8)
        if v > 255:
            raise RubyError("RangeError: %d out of char range" % v)
        return chr(v)

    out = R_UNESCAPE.sub(repl, s)
    # Integer#chr gives a binary string for 128..255; gsub'ing it into a UTF-8 string that also
    # holds non-ASCII text raises Encoding::CompatibilityError in Ruby (modelled from Ruby's string
    # rules, not run against Ruby; only --sdk-quirks and mutants produce such tokens).
    if any(ord(c) > 127 for c in s) and any(0x80 <= int(m.group(1), 8) <= 0xFF
                                            for m in R_UNESCAPE.finditer(s) if m.group(1) != "\\"):
        raise RubyError("Encoding::CompatibilityError")
    return out


def ruby_validate(text: bytes):
    """Returns None if the API server would accept the manifest text, else a message."""
    try:
        s = text.decode("utf-8")
    except UnicodeDecodeError:
        return "manifest_text must use UTF-8 encoding"
    try:
        return _ruby_validate(s)
    except RubyError as e:
        return "exception: %s" % e


def _ruby_validate(s):
    if s == "":
        return None
    if not s.endswith("\n"):
        return "Invalid manifest: does not end with newline"
    for n, line in enumerate(ruby_each_line(s), 1):
        words = line[:-1].split(" ")
        while words and words[-1] == "":  # Ruby's split drops trailing empty fields
            words.pop()
        if not words:
            return "Manifest invalid for stream %d: missing stream name" % n
        word = words.pop(0)
        if R_NON_8BIT.search(word):
            return "Manifest invalid for stream %d: >8-bit encoded chars not allowed on stream token %r" % (n, word)
        un = ruby_unescape(word)
        if not (R_STREAM_TOKEN.search(word) and R_STREAM_NAME.search(un) and not R_DOT_COMPONENT.search(un)):
            return "Manifest invalid for stream %d: missing or invalid stream name %r" % (n, word)
        count = 0
        word = words.pop(0) if words else None
        while word is not None and RUBY_LOCATOR_S.match(word):
            word = words.pop(0) if words else None
            count += 1
        if count == 0:
            return "Manifest invalid for stream %d: missing or invalid locator %r" % (n, word)
        if word is not None and R_NON_8BIT.search(word):
            return "Manifest invalid for stream %d: >8-bit encoded chars not allowed on file token %r" % (n, word)
        count = 0
        while word is not None:
            un = ruby_unescape(word)
            ok = bool(R_EMPTY_DIR.search(un))
            if not ok and R_FILE_TOKEN.search(word):
                m = R_FILE_NAME.search(un)
                if m:
                    parts = m.group(1).split("/")
                    while parts and parts[-1] == "":
                        parts.pop()
                    ok = "." not in parts and ".." not in parts
            if not ok:
                break
            word = words.pop(0) if words else None
            count += 1
        if word is not None:
            return "Manifest invalid for stream %d: invalid file token %r" % (n, word)
        if count == 0:
            return "Manifest invalid for stream %d: no file tokens" % n
        if line.endswith(" \n"):
            return "Manifest invalid for stream %d: trailing space" % n
    return None


# --------------------------------------------------------------------------------------------
# Python SDK: read a manifest into a tree, write it normalized
# --------------------------------------------------------------------------------------------

class SdkError(Exception):
    pass


class PyDir:
    __slots__ = ("items",)

    def __init__(self):
        self.items = {}


class PyFile:
    __slots__ = ("segs",)  # list of (locator token, block size, offset in block, length)

    def __init__(self):
        self.segs = []


SDK_TOKEN = re.compile(r"(\S+)(\s+|$)")  # str mode, so Unicode whitespace separates too
SDK_BLOCK = re.compile(r"[0-9a-f]{32}\+(\d+)(\+\S+)*")
SDK_SEGMENT = re.compile(r"(\d+):(\d+):(\S+)")
SDK_UNESCAPE = re.compile(r"\\([0-3][0-7][0-7])")
SDK_HINT = re.compile(r"^[A-Z][A-Za-z0-9@_-]+$")
SDK_ESCAPE = re.compile(r"[\\:\000-\040]")


def sdk_unescape(s):
    # One code point per escape (not one byte): see the module docstring.
    return SDK_UNESCAPE.sub(lambda m: chr(int(m.group(1), 8)), s)


def sdk_escape(s):
    return SDK_ESCAPE.sub(lambda m: "\\%03o" % ord(m.group(0)), s)


def sdk_locator_size(tok):
    """KeepLocator(tok).size, raising where KeepLocator's constructor raises."""
    parts = tok.split("+")
    if not re.fullmatch(r"[0-9a-fA-F]{32}", parts[0]):
        raise SdkError("KeepLocator: bad md5 %r" % parts[0])
    if len(parts) < 2:
        return None
    size = int(parts[1])
    for h in parts[2:]:
        if not SDK_HINT.match(h):
            raise SdkError("KeepLocator: invalid hint format %r" % h)
        if h.startswith("A"):
            sig, at, exp = h[1:].partition("@")
            if not at or not re.fullmatch(r"[0-9a-fA-F]{40}", sig) or not re.fullmatch(r"[0-9a-fA-F]{1,8}", exp):
                raise SdkError("KeepLocator: bad permission hint %r" % h)
    return size


def sdk_lookup(root, path, want_dir):
    """Collection.find_or_create: '.' is the root, a leading './' is dropped, missing
    directories are created, the last component is created as a file or a directory."""
    if path == ".":
        return root
    if path.startswith("./"):
        path = path[2:]
    node = root
    while True:
        head, slash, rest = path.partition("/")
        if head == "":
            return node
        child = node.items.get(head)
        if not slash:
            if child is None:
                child = PyDir() if want_dir else PyFile()
                node.items[head] = child
            return child
        if child is None:
            child = node.items[head] = PyDir()
        if not isinstance(child, PyDir):
            raise SdkError("Not a directory: %r" % head)
        node, path = child, rest


def sdk_pieces(blocks, pos, size):
    """locators_and_ranges(): the (locator, block size, offset in block, length) pieces covering
    [pos, pos+size) of a stream whose blocks are (locator, start, size). Zero-length blocks
    are handled exactly as the SDK's bisection does."""
    if size == 0:
        return []
    if not blocks:
        raise SdkError("segment in a stream without blocks")
    lo, hi = 0, len(blocks)
    i = (lo + hi) // 2
    while not (blocks[i][1] <= pos < blocks[i][1] + blocks[i][2]):
        if lo == i:
            return []
        if pos > blocks[i][1]:
            lo = i
        else:
            hi = i
        i = (lo + hi) // 2
    end = pos + size
    out = []
    for loc, bstart, bsize in blocks[i:]:
        bend = bstart + bsize
        if end <= bstart:
            break
        first = max(pos, bstart)
        out.append((loc, bsize, first - bstart, min(end, bend) - first))
    return out


def sdk_read(text: bytes) -> PyDir:
    try:
        s = text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SdkError(str(e))
    root = PyDir()
    state, stream = "name", None
    for m in SDK_TOKEN.finditer(s):
        tok, sep = m.group(1), m.group(2)
        if state == "name":
            stream = sdk_unescape(tok)
            blocks, offset, state = [], 0, "blocks"
            sdk_lookup(root, stream, True)
        else:
            if state == "blocks":
                bm = SDK_BLOCK.match(tok)
                if bm:
                    blocks.append((tok, offset, int(bm.group(1))))
                    offset += int(bm.group(1))
                else:
                    state = "segments"
            if state == "segments":
                sm = SDK_SEGMENT.match(tok)
                if not sm:
                    raise SdkError("expected file segment, got %r" % tok)
                name = sdk_unescape(sm.group(3))
                if name.split("/")[-1] == ".":
                    if len(name) > 2:
                        sdk_lookup(root, posixpath.join(stream, name[:-2]), True)
                else:
                    f = sdk_lookup(root, posixpath.join(stream, name), False)
                    if not isinstance(f, PyFile):
                        raise SdkError("file %r conflicts with a directory" % name)
                    f.segs.extend(sdk_pieces(blocks, int(sm.group(1)), int(sm.group(2))))
        if sep == "\n":
            state = "name"
    return root


def sdk_stream_line(stream_name, files):
    """normalize_stream(): files is {name: PyFile}."""
    names = sorted(files)
    start_of, toks, off = {}, [sdk_escape(stream_name)], 0
    for n in names:
        for loc, _, _, _ in files[n].segs:
            if loc not in start_of:
                start_of[loc] = off
                off += sdk_locator_size(loc)
                toks.append(loc)
    if len(toks) == 1:
        toks.append(EMPTY_LOCATOR)
    for n in names:
        en = sdk_escape(n)
        if not files[n].segs:
            toks.append("0:0:" + en)
            continue
        span = None
        for loc, _, boff, length in files[n].segs:
            p = start_of[loc] + boff
            if span and p == span[1]:
                span[1] += length
            else:
                if span:
                    toks.append("%d:%d:%s" % (span[0], span[1] - span[0], en))
                span = [p, p + length]
        toks.append("%d:%d:%s" % (span[0], span[1] - span[0], en))
    return " ".join(toks) + "\n"


def sdk_write(node, stream_name=".", is_root=True):
    if not is_root and not node.items:
        return "%s %s 0:0:\\056\n" % (sdk_escape(stream_name), EMPTY_LOCATOR)
    names = sorted(node.items)
    files = {n: node.items[n] for n in names if isinstance(node.items[n], PyFile)}
    out = [sdk_stream_line(stream_name, files)] if files else []
    for n in names:
        if isinstance(node.items[n], PyDir):
            out.append(sdk_write(node.items[n], posixpath.join(stream_name, n), False))
    return "".join(out)


def sdk_normalize(text: bytes) -> bytes:
    return sdk_write(sdk_read(text)).encode("utf-8")


# --------------------------------------------------------------------------------------------
# Cairn's extra rules (the generator stays inside them; the shrinker checks candidates)
# --------------------------------------------------------------------------------------------

CAIRN_LOCATOR = re.compile(r"[0-9a-f]{32}\+(0|[1-9][0-9]*)((\+[A-Z][A-Za-z0-9@_-]*)*)\Z")
# DESIGN.md §3 and what `cairn manifest validate` enforces: sizes without leading zeros, and the
# known hints in their fixed shapes (+A signature, +K service hint, +R remote signature).
CAIRN_KNOWN_HINT = {
    "A": re.compile(r"A[0-9a-f]{40}@[0-9a-f]{1,8}\Z"),
    "K": re.compile(r"K@?([0-9a-z]{5}|[0-9a-z]{5}-[0-9a-z]{5}-[0-9a-z]{15})\Z"),
    "R": re.compile(r"R[0-9a-z]{5}-[0-9a-f]{40}@[0-9a-f]{8}\Z"),
}


def cairn_rules_ok(text: bytes) -> bool:
    if ruby_validate(text) is not None:
        return False
    for line in text.decode("utf-8").split("\n")[:-1]:
        toks = line.split(" ")[1:]
        length = 0
        while toks and RUBY_LOCATOR_S.match(toks[0]):
            m = CAIRN_LOCATOR.match(toks.pop(0))
            if not m or int(m.group(1)) > MAX_BLOCK:
                return False
            for hint in m.group(2).split("+")[1:]:
                if hint[0] in CAIRN_KNOWN_HINT and not CAIRN_KNOWN_HINT[hint[0]].match(hint):
                    return False
            length += int(m.group(1))
        for t in toks:
            pos, size, _ = t.split(":", 2)
            if int(pos) + int(size) > length:
                return False
        for name in [line.split(" ")[0]] + [t.split(":", 2)[2] for t in toks]:
            try:  # a name's bytes, once unescaped, must be UTF-8
                re.sub(rb"\\([0-3][0-7][0-7])", lambda m: bytes([int(m.group(1), 8)]),
                       name.encode("utf-8")).decode("utf-8")
            except UnicodeDecodeError:
                return False
    try:
        sdk_normalize(text)
    except SdkError:
        return False
    return True


def sdk_quirk_free(text: bytes) -> bool:
    """False for the inputs the Python SDK mishandles (module docstring): Unicode whitespace, octal
    escapes of bytes >= 0x80, zero-length blocks other than one leading or trailing ones."""
    s = text.decode("utf-8", "replace")
    if re.search(r"\\[23][0-7][0-7]", s) or any(c.isspace() for c in s if ord(c) > 127):
        return False
    for line in s.split("\n"):
        sizes = [int(m.group(1)) for m in map(CAIRN_LOCATOR.match, line.split(" ")[1:]) if m]
        while sizes and sizes[-1] == 0:
            sizes.pop()
        if sizes and sizes[0] == 0:
            sizes.pop(0)
        if 0 in sizes:
            return False
    return True


# --------------------------------------------------------------------------------------------
# Random manifests
# --------------------------------------------------------------------------------------------

PLAIN = ["a", "b", "x", "foo", "bar", "data", "File", "z9", "1", "readme.txt", "out.tar.gz", "A_b-c"]
PUNCT = [".", "+", "-", "_", "@", "#", "%", "~", "=", ",", ";", "!", '"', "'", "*", "?", "[", "]",
         "(", ")", "{", "}", "&", "$", "|", "<", ">", "^", "`", "\x7f"]
NEEDS_ESCAPE = [" ", "\t", "\n", "\r", ":", "\\", "\x00", "\x01", "\x0b", "\x1b", "\x1f", " ", ":"]
UTF8 = ["é", "ñ", "ß", "Ж", "ω", "ü", "€", "→", "日本語", "ア", "한", "☃", "😀", "𝄞", "🐍", "\u200b"]
WHOLE = ["...", ".foo", "..bar", "foo.", ".a.", "0:0", "0:0:0", "a+b", "+", "++", "-", "\\056",
         "\\134", "\\", ":", " ", ". ", ".\t", "d41d8cd98f00b204e9800998ecf8427e+0",
         "acbd18db4cc2f85cedef654fccc4a4d8", "\\040x"]
RUBY_DOT_NEWLINE = re.compile(r"\.\.?\n")
UNICODE_SPACES = ["\u00a0", "\u2003", "\u3000"]
HINTS = ["+K@zzzzz", "+Zfoo", "+K@zzzzz+Zfoo", "+Ybar234", "+Xa@b_c-372", "+W99",
         "+K@zzzzz-bi6l4-0123456789abcde", "+K@qr1hi"]


class Gen:
    def __init__(self, rng, quirks=False):
        self.rng = rng
        self.quirks = quirks
        self.gratuitous = rng.choice([0.0, 0.0, 0.0, 0.04, 0.15])  # escapes nobody needs
        self.slash_escape = rng.choice([0.0, 0.0, 0.1, 0.5])       # '/' written \057

    def component(self):
        r = self.rng
        while True:
            if r.random() < 0.2:
                name = r.choice(WHOLE)
            else:
                atoms = []
                for _ in range(r.choice([1, 1, 2, 2, 3, 4])):
                    k = r.random()
                    pool = PLAIN if k < 0.45 else PUNCT if k < 0.65 else NEEDS_ESCAPE if k < 0.85 else UTF8
                    if self.quirks and r.random() < 0.05:
                        pool = UNICODE_SPACES
                    atoms.append(r.choice(pool))
                name = "".join(atoms)
            if name not in ("", ".", "..") and "/" not in name:
                return name

    def esc(self, s):
        out = []
        for ch in s:
            b = ch.encode("utf-8")
            if len(b) == 1 and (b[0] <= 0x20 or ch in ":\\"):
                out.append("\\%03o" % b[0])
            elif len(b) == 1 and self.rng.random() < self.gratuitous:
                out.append("\\%03o" % b[0])
            elif len(b) > 1 and self.quirks and self.rng.random() < 0.2:
                out.append("".join("\\%03o" % x for x in b))
            else:
                out.append(ch)
        return "".join(out)

    def join(self, comps):
        out = ""
        for i, c in enumerate(comps):
            if i:
                out += "\\057" if self.rng.random() < self.slash_escape else "/"
            out += self.esc(c)
        return out

    def stream_token(self, d):
        lead = "\\056" if self.rng.random() < self.gratuitous else "."
        return lead + "".join(("\\057" if self.rng.random() < self.slash_escape else "/") + self.esc(c)
                              for c in d)

    def block_size(self):
        k = self.rng.random()
        if k < 0.6:
            return self.rng.randint(1, 40)
        if k < 0.8:
            return self.rng.randint(41, 5000)
        if k < 0.92:
            return self.rng.randint(5001, MAX_BLOCK - 1)
        return MAX_BLOCK

    def manifest(self) -> bytes:
        r = self.rng
        dirs = [()]
        for _ in range(r.choice([0, 1, 2, 3, 4, 6])):
            c = self.component()
            if RUBY_DOT_NEWLINE.match(c) and not self.quirks:
                continue  # see VALID_VECTORS: the Ruby validator rejects such directory names
            p = r.choice(dirs) + (c,)
            if p not in dirs:
                dirs.append(p)
        dirset = set(dirs)
        files = []
        pool = []
        for _ in range(r.randint(1, 6)):
            h = "%032x" % r.getrandbits(128)
            default_hint = r.choice(["", "", "", r.choice(HINTS), self.signature()])
            pool.append((h, self.block_size(), default_hint))

        def token(b):
            h, size, hint = b
            k = r.random()
            if k < 0.15:
                hint = r.choice(["", r.choice(HINTS), self.signature(), self.signature() + "+K@zzzzz"])
            return "%s+%d%s" % (h, size, hint)

        lines, used_dirs = [], set()
        for _ in range(r.choice([1, 1, 2, 3, 4, 5, 7, 12])):
            sdir = r.choice(dirs) if r.random() < 0.6 else ()
            used_dirs.add(sdir)
            blocks = [token(r.choice(pool)) for _ in range(r.choice([1, 1, 2, 3, 4]))]
            if r.random() < 0.1:  # empty block at a position the Python SDK handles
                if r.random() < 0.5:
                    blocks.insert(0, EMPTY_LOCATOR)
                else:
                    blocks.append(EMPTY_LOCATOR)
            if self.quirks and r.random() < 0.2 and len(blocks) > 1:
                blocks.insert(r.randint(1, len(blocks) - 1), EMPTY_LOCATOR)
            starts = [0]
            for b in blocks:
                starts.append(starts[-1] + int(b.split("+")[1]))
            length = starts[-1]
            toks = []
            for _ in range(r.choice([1, 1, 2, 3, 4, 6])):
                k = r.random()
                if k < 0.08:
                    toks.append(r.choice(["0:0:.", "0:0:\\056"]))
                    continue
                under = [f for f in files if f[:len(sdir)] == sdir]
                if under and r.random() < 0.4:
                    f = r.choice(under)
                else:
                    d = r.choice([x for x in dirs if x[:len(sdir)] == sdir])
                    f = d + (self.component(),)
                    if f in dirset:
                        continue
                    if f not in files:
                        files.append(f)
                rel = self.join(f[len(sdir):])
                for pos, size in self.segments(starts, length):
                    toks.append("%d:%d:%s" % (pos, size, rel))
            if not toks:
                toks.append(r.choice(["0:0:.", "0:0:\\056"]))
            if r.random() < 0.2:
                r.shuffle(toks)
            lines.append(" ".join([self.stream_token(sdir)] + blocks + toks) + "\n")
        # Empty directories: some of the leaf directories nobody wrote to get a marker stream.
        occupied = {f[:i] for f in files for i in range(len(f))} | {d[:i] for d in used_dirs for i in range(len(d) + 1)}
        for d in dirs:
            if d and d not in occupied and r.random() < 0.7:
                blocks = [EMPTY_LOCATOR] if r.random() < 0.7 else [token(r.choice(pool))]
                lines.append("%s %s %s\n" % (self.stream_token(d), " ".join(blocks),
                                             r.choice(["0:0:.", "0:0:\\056"])))
        r.shuffle(lines)
        return "".join(lines).encode("utf-8")

    def signature(self):
        return "+A%040x@%08x" % (self.rng.getrandbits(160), self.rng.getrandbits(32))

    def segments(self, starts, length):
        r = self.rng
        if length == 0:
            return [(0, 0)]
        k = r.random()
        if k < 0.15:
            return [(0, length)]
        if k < 0.3:
            i = r.randrange(len(starts) - 1)
            return [(starts[i], starts[i + 1] - starts[i])]
        if k < 0.4:
            return [(r.randint(0, length), 0)]
        if k < 0.65:  # one range cut into contiguous pieces (merged again by the writer)
            a = r.randint(0, length)
            b = r.randint(a, length)
            cuts = sorted({a, b} | {r.randint(a, b) for _ in range(r.randint(1, 3))})
            return [(x, y - x) for x, y in zip(cuts, cuts[1:])] or [(a, 0)]
        out = []
        for _ in range(r.randint(1, 3)):
            a = r.randint(0, length)
            out.append((a, r.randint(0, length - a)))
        return out


# --------------------------------------------------------------------------------------------
# Fixed vectors
# --------------------------------------------------------------------------------------------

E = "d41d8cd98f00b204e9800998ecf8427e"

# (text, PDH) from the Arvados test suites, arvados-keep.md §3.2.
PDH_VECTORS = [
    ("", "d41d8cd98f00b204e9800998ecf8427e+0"),
    (". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:foo\n", "1f4b0bc7583c2a7f9102c395f4ffc5e3+45"),
    (". 37b51d194a7513e45b56f6524f2d51f2+3 0:3:bar\n", "fa7aeb5140e2848d39b416daeef4ffc5+45"),
    ("./dir1 3858f62230ac3c915f300c664312c63f+6 3:3:bar 0:3:foo\n", "870369fc72738603c2fad16664e50e2d+58"),
    ("".join("%s %s+0 0:0:file1 0:0:file2 0:0:file3\n" % (s, E) for s in (".", "./dir1", "./dir1/subdir", "./dir2")),
     "f9ddda46bb293b6847da984e3aa735db+290"),
    (". f0ef7081e1539ac00ef5b761b4fb01b3+12 0:12:Hello\\040world.txt\n", "55713e6a34081eb03609e7ad5fcad129+62"),
    (". 6a4ff0499484c6c79c95cd8c566bd25f+249025 0:249025:GNU_General_Public_License,_version_3.pdf\n",
     "b519d9cb706a29fc7ea24dbea2f05851+93"),
    (". 3858f62230ac3c915f300c664312c63f+6 0:3:foo.txt 3:3:bar.txt\n./baz 73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt\n",
     "23ca013983d6239e98931cc779e68426+114"),
    (". acbd18db4cc2f85cedef654fccc4a4d8+3+A1f27a35dd9af37191d63ad8eb8985624451e7b79@5835c8bc+K@zzzzz 0:3:foo\n",
     "1f4b0bc7583c2a7f9102c395f4ffc5e3+45"),
    # Not from a test suite: the first word of a line is never a locator for Rails (nor for the
    # Python SDK's stripped_manifest), even when, spelled with a leading \056, it has '+' at
    # index 32 as a locator does (Go's fast PortableDataHash scan would cut it).
    ("\\056/" + "a" * 27 + "++ d41d8cd98f00b204e9800998ecf8427e+0 0:0:a\n", "8be0ff03c3efbcc33d815ec48a4537e2+76"),
]

# (input, expected manifest_text(normalize=True)) from sdk/python/tests/test_collections.py
# (test_normalized_collection) and test_collection_empty_file / empty directories.
BIG = "204e43b8a1185621ca55a94839582e6f+67108864"
NORMALIZE_VECTORS = [
    (". 5348b82a029fd9e971a811ce1f71360b+43 0:43:md5sum.txt\n. 085c37f02916da1cad16f93c54d899b7+41 0:41:md5sum.txt\n"
     ". 8b22da26f9f433dea0a10e5ec66d73ba+43 0:43:md5sum.txt\n",
     ". 5348b82a029fd9e971a811ce1f71360b+43 085c37f02916da1cad16f93c54d899b7+41 8b22da26f9f433dea0a10e5ec66d73ba+43 0:127:md5sum.txt\n"),
    (". 5348b82a029fd9e971a811ce1f71360b+43 3:40:md5sum.txt\n. 085c37f02916da1cad16f93c54d899b7+41 0:41:md5sum.txt\n"
     ". 8b22da26f9f433dea0a10e5ec66d73ba+43 0:43:md5sum.txt\n",
     ". 5348b82a029fd9e971a811ce1f71360b+43 085c37f02916da1cad16f93c54d899b7+41 8b22da26f9f433dea0a10e5ec66d73ba+43 3:124:md5sum.txt\n"),
    (". %s b9677abbac956bd3e86b1deb28dfac03+67108864 fc15aff2a762b13f521baf042140acec+67108864 "
     "323d2a3ce20370c4ca1d3462a344f8fd+25885655 0:227212247:var-GS000016015-ASM.tsv.bz2\n" % BIG, None),
    (". %s 0:3:foo/bar\n./zzz %s 0:999:zzz\n./foo 323d2a3ce20370c4ca1d3462a344f8fd+25885655 0:3:bar\n" % (BIG, BIG),
     "./foo %s 323d2a3ce20370c4ca1d3462a344f8fd+25885655 0:3:bar 67108864:3:bar\n./zzz %s 0:999:zzz\n" % (BIG, BIG)),
    (". %s 0:3:foo/bar\n./zzz %s 0:999:zzz\n./foo %s 3:3:bar\n" % (BIG, BIG, BIG),
     "./foo %s 0:6:bar\n./zzz %s 0:999:zzz\n" % (BIG, BIG)),
    ("./a\\040b\\040c 59ca0efa9f5633cb0371bbc0355478d8+13 0:13:hello\\040world.txt\n", None),
    (". %s+0 0:0:zero.txt\n" % E, None),
    ("./a %s+0 0:0:.\n./b/c %s+0 0:0:\\056\n" % (E, E), "./a %s+0 0:0:\\056\n./b/c %s+0 0:0:\\056\n" % (E, E)),
    (". %s+0 0:0:.\n" % E, ""),
    ("", ""),
    ("./a-b %s+0 0:0:x\n./a/x %s+0 0:0:y\n./a %s+0 0:0:z\n" % (E, E, E),
     "./a %s+0 0:0:z\n./a/x %s+0 0:0:y\n./a-b %s+0 0:0:x\n" % (E, E, E)),
    (". 3858f62230ac3c915f300c664312c63f+6 0:3:foo.txt 3:3:bar.txt\n./baz 73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt\n",
     ". 3858f62230ac3c915f300c664312c63f+6 3:3:bar.txt 0:3:foo.txt\n./baz 73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt\n"),
]

# Ruby validator vectors (sdk/ruby/test/test_keep_manifest.rb) that are valid for Arvados and
# inside Cairn's rules, plus a few more from the format document.
VALID_VECTORS = [
    ". %s+0 0:0:abc.txt\n" % E, ". %s+0 0:0:foo/bar.txt\n" % E, ". %s+0 0:0:.foo.txt\n" % E,
    ". %s+0 0:0:.foo\n" % E, ". %s+0 0:0:...\n" % E, ". %s+0 0:0:.../.foo./.../bar\n" % E,
    ". %s+0 0:0:foo/...\n" % E, ". %s+0 0:0:foo/.../bar\n" % E, ". %s+0 0:0:foo/.bar/baz.txt\n" % E,
    ". %s+0 0:0:foo/bar./baz.txt\n" % E, ". %s+0 0:0:0:0\n" % E, ". %s+0 0:0:\\040\n" % E,
    ". 00000000000000000000000000000000+0 0:0:0\n",
    ". 00000000000000000000000000000000+0 0:0:d41d8cd98f00b204e9800998ecf8427e+0+Ad41d8cd98f00b204e9800998ecf8427e00000000@ffffffff\n",
    ". %s+0+Ad41d8cd98f00b204e9800998ecf8427e00000000@ffffffff 0:0:empty.txt\n" % E,
    "./empty_dir %s+0 0:0:.\n" % E, "./empty_dir %s+0 0:0:\\056\n" % E, ". %s+0 0:0:foo\\057bar\n" % E,
    ". %s+0 0:0:\\072\n" % E, ".\\057Data %s+0 0:0:foo\n" % E, "\\056\\057Data %s+0 0:0:foo\n" % E,
    "./\\134444 %s+0 0:0:foo\n" % E, "./\\011foo %s+0 0:0:foo\n" % E, "./Data\\040Folder %s+0 0:0:foo\n" % E,
    ". %s+0 0:0:\\134057foo/bar\n" % E,
    ". 930625b054ce894ac40596c3f5a0d947+33 0:0:a 0:0:b 0:33:output.txt\n./c %s+0 0:0:d\n" % E,
    ". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:foo 0:3:foo\n",
    ". acbd18db4cc2f85cedef654fccc4a4d8+3 acbd18db4cc2f85cedef654fccc4a4d8+3 0:6:foo\n",
    ". acbd18db4cc2f85cedef654fccc4a4d8+3 37b51d194a7513e45b56f6524f2d51f2+3 acbd18db4cc2f85cedef654fccc4a4d8+3+K@zzzzz 0:9:f\n",
    # A directory component ".<LF>x" is neither "." nor ".." (valid per the format document, the
    # Python and Go SDKs); the Ruby validator's /\/\.\.?(\/|$)/ takes $ as an end of line and
    # rejects it in a stream name -- but not in a file name, so the first manifest is valid for the
    # API server while its normalized form (the second, also what the Python SDK writes) is not.
    ". %s+0 0:0:.\\012x/a\n" % E,
    "./.\\012x %s+0 0:0:a\n" % E,
]

# Ruby validator vectors that the API server rejects (test_keep_manifest.rb / arvados-keep.md §2.5),
# then EXTRA_INVALID_VECTORS: more that Keep::Manifest.validate! rejects (read off its regexps).
INVALID_VECTORS = [
    " ", ". %s 0:0:abc.txt" % E, "abc %s 0:0:abc.txt\n" % E, "abc/./foo %s 0:0:abc.txt\n" % E,
    "./abc/../foo %s 0:0:abc.txt\n" % E, "./abc/. %s 0:0:abc.txt\n" % E, "./abc/.. %s 0:0:abc.txt\n" % E,
    "./abc/./foo %s 0:0:abc.txt\n" % E, ". 8cf8463b34caa8ac871a52d5dd7ad1ef+1 0:1:.\n",
    ". %s 0:0:..\n" % E, ". %s 0:0:./abc.txt\n" % E, ". %s 0:0:../abc.txt\n" % E,
    ". %s 0:0:abc.txt/.\n" % E, ". %s 0:0:abc.txt/..\n" % E, ". %s 0:0:a/./bc.txt\n" % E,
    ". %s 0:0:a/../bc.txt\n" % E, "%s+0 0:0:abc.txt\n" % E, ". d41d8cd98f00b204e9800998ecf8427 0:0:abc.txt\n",
    ". %s\n" % E, ". %s+0 0:0:abc.txt\n/dir1 d41d8cd98f00b204e9800998ecf842 0:0:abc.txt\n" % E,
    ". %s+0 0:0:abc.txt\n./dir1 d41d8cd98f00b204e9800998ecf842 0:0:abc.txt\n" % E,
    ". %s+0 0:0:abc.txt\n./dir1 a41d8cd98f00b204e9800998ecf8427e+0 abc.txt\n" % E,
    ". %s+0 0:0:abc.txt\n./dir1 a41d8cd98f00b204e9800998ecf8427e+0 0:abc.txt\n" % E,
    ". %s+0 0:0:abc.txt\n./dir1 a41d8cd98f00b204e9800998ecf8427e+0 0:0:abc.txt xyz.txt\n" % E,
    ". %s+0 0:0:foo.txt %s+0\n" % (E, E), ". %s+0 0:0:\n" % E, ". %s+0\n" % E,
    ". 0:0:foo.txt %s+0\n" % E, ". 0:0:foo.txt\n", ".\n", ".", ". \n", ".  \n",
    " . %s+0 0:0:foo.txt\n" % E, ". %s+0 0:0:foo.txt \n" % E, "\v. %s+0 0:0:foo.txt\n" % E,
    "./foo\vbar %s+0 0:0:foo.txt\n" % E, "\t. %s+0 0:0:foo.txt\n" % E, ".\t%s+0 0:0:foo.txt\n" % E,
    ". %s+0 0:0:foo.txt\t\n" % E, ". %s+0\t 0:0:foo.txt\n" % E, "./foo\tbar %s+0 0:0:foo.txt\n" % E,
    ". %s+0  0:0:foo.txt\n" % E, ". %s+0 0:0:foo.txt\n \n" % E, ". %s+0 0:0:foo.txt\n\n" % E,
    ". %s+0 0:0:foo.txt\n " % E, "\n. %s+0 0:0:foo.txt\n" % E, " \n. %s+0 0:0:foo.txt\n" % E,
    ". %s+0 0:0:/foo.txt\n" % E, "./ %s+0 0:0:foo.txt\n" % E, ".//foo %s+0 0:0:foo.txt\n" % E,
    "./foo/ %s+0 0:0:foo.txt\n" % E, "./foo//bar %s+0 0:0:foo.txt\n" % E, ". %s+0 0:0:foo//bar.txt\n" % E,
    ". %s+0 0:0:foo/\n" % E, "./empty_dir %s+0 0:0:\\056\\056\n" % E,
    "./empty_dir %s+0 0:0:\\056\\056\\057foo\n" % E, "./empty_dir %s+0 0\\0720\\072foo\n" % E,
    "./empty_dir %s+0 \\060:\\060:foo\n" % E, "./\\\\444 %s+0 0:0:foo\n" % E, "./\\011/.. %s+0 0:0:foo\n" % E,
    ".\\056\\057 %s+0 0:0:foo\n" % E, ".\\057\\056 %s+0 0:0:foo\n" % E, ".\\057Data %s+0 0:0:foo\\444\n" % E,
    "./\\444 %s+0 0:0:foo\n" % E, "./\tfoo %s+0 0:0:foo\n" % E, "./foo\\ %s+0 0:0:foo\n" % E,
    "./foo\\r %s+0 0:0:foo\n" % E, "./foo\\444 %s+0 0:0:foo\n" % E, "./foo\\888 %s+0 0:0:foo\n" % E,
    ". %s+0 0:0:foo\\\n" % E, ". %s+0 0:0:foo\\r\n" % E, ". %s+0 0:0:foo\\444\n" % E,
    ". %s+0 0:0:foo\\888\n" % E, ". %s+0 0:0:foo\\057/bar\n" % E, ".\\057/Data %s+0 0:0:foo\n" % E,
    ". %s+0 0:0:\\057foo/bar\n" % E, ". %s+0 \\040:\\040:foo.txt\n" % E,
]
A3 = "acbd18db4cc2f85cedef654fccc4a4d8+3"
EXTRA_INVALID_VECTORS = [
    # Only the exact token 0:0:. (after unescaping) is the empty-directory marker
    # (EMPTY_DIR_TOKEN_REGEXP); any other zero-length "." is a file named "." and invalid.
    ". %s 3:0:.\n" % A3, ". %s 1:0:.\n" % A3, ". %s 00:0:.\n" % A3, ". %s 0:00:.\n" % A3,
    ". %s 3:0:\\056\n" % A3,
    ". %s 0:0:a/.\n" % A3, ". %s 0:0:a/\\056\n" % A3, ". %s 0:3:\\056\n" % A3,
    ". %s 0:0:\\056\\056\n" % A3, "./a\\012/. %s 0:3:f\n" % A3,
]

# Manifests the Ruby validator accepts only through its regexps' line anchors (^ and $ also match
# around an escaped newline) and that no Arvados reader takes as written (the Python and Go readers
# reject \060:\060:.; they read ".<LF>" as a directory named ".<LF>", not as the root, which the
# format's grammar does not allow). Cairn is expected to reject them.
STRICTER_VECTORS = [
    ". %s \\060:\\060:.\n" % A3,
    ".\\012 %s 0:3:f\n" % A3,
]


# --------------------------------------------------------------------------------------------
# Running Cairn and the checks
# --------------------------------------------------------------------------------------------

class Cairn:
    def __init__(self, path):
        self.path = path

    def run(self, sub, data, *flags):
        for attempt in range(20):  # tolerate the binary being relinked under us
            try:
                p = subprocess.run([self.path, "manifest", sub, *flags, "-"], input=data,
                                   capture_output=True, timeout=60)
                return p.returncode, p.stdout, p.stderr
            except OSError as e:
                err = e
                time.sleep(0.5)
        sys.exit("arvados_crosscheck: cannot run %s: %s" % (self.path, err))


def show(b, limit=160):
    r = repr(b)
    return r if len(r) <= limit else r[:limit] + "..."


def first_diff(a: bytes, b: bytes):
    al, bl = a.split(b"\n"), b.split(b"\n")
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return "line %d: cairn %s / python-sdk %s" % (i + 1, show(x, 200), show(y, 200))
    return "cairn %d lines, python-sdk %d lines" % (len(al) - 1, len(bl) - 1)


class Runner:
    def __init__(self, cairn, seed, shrink=True):
        self.cairn = cairn
        self.seed = seed
        self.passed = 0
        self.failed = 0
        self.shrink_enabled = shrink
        self.outdir = None

    def save(self, name, files):
        if self.outdir is None:
            self.outdir = tempfile.mkdtemp(prefix="cairn-crosscheck-")
        base = os.path.join(self.outdir, name)
        for suffix, data in files.items():
            with open(base + suffix, "wb") as f:
                f.write(data)
        return base + ".manifest"

    def record(self, ok, check, case, detail, text, fails=None, extra=None, keep=None):
        if ok:
            self.passed += 1
            return
        self.failed += 1
        minimal = text
        if fails is not None and self.shrink_enabled:
            minimal = shrink(text, fails, keep or cairn_rules_ok)
        files = {".manifest": minimal}
        if minimal != text:
            files[".orig.manifest"] = text
        files.update(extra(minimal) if extra else {})
        path = self.save("%s-%s" % (case.replace("/", "_").replace(":", "-"), check), files)
        seed = "fixed" if case.startswith("vector") else str(self.seed)
        print("FAIL %s seed=%s case=%s: %s; reproducer: %s" % (check, seed, case, detail, path), flush=True)

    # -- the checks ----------------------------------------------------------------------------

    def check_pdh(self, case, text):
        want = rails_pdh(text)
        rc, out, err = self.cairn.run("pdh", text)
        got = out.decode("utf-8", "replace").strip()

        def fails(t):
            rc2, o2, _ = self.cairn.run("pdh", t)
            return rc2 != 0 or o2.decode("utf-8", "replace").strip() != rails_pdh(t)

        self.record(rc == 0 and got == want, "pdh", case,
                    "cairn %s (exit %d%s), Rails %s" % (got or "-", rc, (" " + show(err)) if rc else "", want),
                    text, fails)

    def check_validate(self, case, text, ruby_quirk=False):
        ruby = None if ruby_quirk else ruby_validate(text)
        rc, _, err = self.cairn.run("validate", text, "-q")

        def fails(t):
            return self.cairn.run("validate", t, "-q")[0] != 0 or ruby_validate(t) is not None

        if rc != 0:
            detail = "cairn rejects a manifest the Arvados Ruby validator %s: %s" % (
                "accepts" if ruby is None else "also rejects", show(err.strip(), 300))
        else:
            detail = "cairn accepts, the Arvados Ruby validator rejects: %s" % ruby
        self.record(rc == 0 and ruby is None, "validate", case, detail, text, fails)

    def check_normalize(self, case, text):
        """Returns cairn's normalized output (or None)."""
        rc, out, err = self.cairn.run("normalize", text)
        try:
            want = sdk_normalize(text)
        except SdkError as e:
            self.record(False, "normalize", case, "the Python SDK rejects it (%s); cairn exit %d" % (e, rc), text)
            return out if rc == 0 else None

        def fails(t):
            try:
                w = sdk_normalize(t)
            except SdkError:
                return False
            rc2, o2, _ = self.cairn.run("normalize", t)
            return rc2 != 0 or o2 != w

        def extra(t):
            rc2, o2, e2 = self.cairn.run("normalize", t)
            return {".python-sdk": sdk_normalize(t), ".cairn": o2, ".cairn-stderr": e2}

        if rc != 0:
            detail = "cairn normalize exit %d: %s" % (rc, show(err.strip(), 300))
        else:
            detail = "output differs, " + first_diff(out, want)
        self.record(rc == 0 and out == want, "normalize", case, detail, text, fails, extra)
        return out if rc == 0 else None

    def check_idempotent(self, case, text, normalized):
        if normalized is None:  # cairn normalize failed: counted under "normalize" already
            return
        rc, out, err = self.cairn.run("normalize", normalized)

        def fails(t):
            rc2, o2, _ = self.cairn.run("normalize", t)
            if rc2 != 0:
                return False
            rc3, o3, _ = self.cairn.run("normalize", o2)
            return rc3 != 0 or o3 != o2

        self.record(rc == 0 and out == normalized, "idempotent", case,
                    "normalize(normalize(m)) != normalize(m): exit %d, %s" % (rc, first_diff(out, normalized)),
                    text, fails)

    def check_normalized_valid(self, case, text, normalized, ruby_quirk=False):
        if normalized is None or ruby_quirk:
            return
        msg = ruby_validate(normalized)
        if msg is not None:
            try:
                same = " (the Python SDK writes the same text)" if sdk_normalize(text) == normalized else ""
            except SdkError:
                same = ""
            msg = "%s%s" % (msg, same)
        self.record(msg is None, "normalized-valid", case,
                    "Cairn's normalized output is rejected by the Arvados Ruby validator: %s" % msg,
                    normalized)

    def check_invalid(self, case, text):
        rc, _, err = self.cairn.run("validate", text, "-q")
        ok = rc == 1 and b"line " in err
        ruby = ruby_validate(text)

        def fails(t):
            rc2, _, e2 = self.cairn.run("validate", t, "-q")
            return ruby_validate(t) is not None and not (rc2 == 1 and b"line " in e2)

        self.record(ok, "invalid", case, "cairn validate exit %d, stderr %s; Ruby validator: %s"
                    % (rc, show(err.strip(), 300), ruby or "accepts"), text,
                    fails if ruby is not None else None, keep=lambda t: True)

    def selftest(self, ok, case, detail, text):
        self.record(ok, "selftest", case, detail, text)

    def full(self, case, text, ruby_quirk=False):
        """All checks. ruby_quirk: a manifest the Rails validator misjudges (docs/formats.md,
        "Known difference"): Cairn must accept it and match the Python SDK; Ruby is not asked."""
        self.check_pdh(case, text)
        self.check_validate(case, text, ruby_quirk)
        norm = self.check_normalize(case, text)
        self.check_idempotent(case, text, norm)
        self.check_normalized_valid(case, text, norm, ruby_quirk)


def shrink(text, fails, keep, budget=400):
    """Greedy reduction: drop lines, file tokens and locators, strip hints; every candidate must
    satisfy keep (normally: inside Cairn's rules and readable by the Python SDK) and still fail."""
    cur = text
    tried = 0
    changed = True
    while changed and tried < budget:
        changed = False
        for cand in candidates(cur):
            if tried >= budget:
                break
            if cand == cur or not keep(cand):
                continue
            tried += 1
            if fails(cand):
                cur = cand
                changed = True
                break
    return cur


def candidates(text):
    try:
        lines = text.decode("utf-8").split("\n")[:-1]
    except UnicodeDecodeError:
        return
    join = lambda ls: "".join(l + "\n" for l in ls).encode("utf-8")
    for i in range(len(lines)):
        yield join(lines[:i] + lines[i + 1:])
    for i, line in enumerate(lines):
        toks = line.split(" ")
        locs = [j for j in range(1, len(toks)) if RUBY_LOCATOR_S.match(toks[j])]
        segs = [j for j in range(1, len(toks)) if j not in locs]
        for j in (segs if len(segs) > 1 else []) + (locs if len(locs) > 1 else []):
            yield join(lines[:i] + [" ".join(toks[:j] + toks[j + 1:])] + lines[i + 1:])
        for j in locs:
            if toks[j].count("+") > 1:
                t = toks[:j] + ["+".join(toks[j].split("+")[:2])] + toks[j + 1:]
                yield join(lines[:i] + [" ".join(t)] + lines[i + 1:])


def run_fixed(run):
    for k, (text, pdh) in enumerate(PDH_VECTORS):
        t = text.encode()
        run.selftest(rails_pdh(t) == pdh, "vector-pdh-%d" % k, "Rails PDH port gives %s, suite says %s" % (rails_pdh(t), pdh), t)
        rc, out, err = run.cairn.run("pdh", t)
        run.record(rc == 0 and out.strip().decode() == pdh, "pdh", "vector-pdh-%d" % k,
                   "cairn %s, Rails %s" % (out.strip().decode("utf-8", "replace"), pdh), t)
    for k, (text, want) in enumerate(NORMALIZE_VECTORS):
        t = text.encode()
        want = t if want is None else want.encode()
        try:
            mine = sdk_normalize(t)
        except SdkError as e:
            mine = repr(e).encode()
        run.selftest(mine == want, "vector-normalize-%d" % k, "Python SDK port gives %s, expected %s" % (show(mine), show(want)), t)
        run.full("vector-normalize-%d" % k, t)
    for k, text in enumerate(VALID_VECTORS):
        t = text.encode()
        ruby = ruby_validate(t)
        quirk = k >= len(VALID_VECTORS) - 2  # the ".<LF>x" directory names (see VALID_VECTORS)
        if not quirk:
            run.selftest(ruby is None, "vector-valid-%d" % k, "Ruby validator port rejects: %s" % ruby, t)
        run.full("vector-valid-%d" % k, t, ruby_quirk=quirk)
    for k, text in enumerate(INVALID_VECTORS):
        t = text.encode()
        run.selftest(ruby_validate(t) is not None, "vector-invalid-%d" % k, "Ruby validator port accepts it", t)
        run.check_invalid("vector-invalid-%d" % k, t)
    for k, text in enumerate(EXTRA_INVALID_VECTORS):
        t = text.encode()
        run.selftest(ruby_validate(t) is not None, "vector-extra-invalid-%d" % k, "Ruby validator port accepts it", t)
        run.check_invalid("vector-extra-invalid-%d" % k, t)
    for k, text in enumerate(STRICTER_VECTORS):
        t = text.encode()
        run.selftest(ruby_validate(t) is None, "vector-stricter-%d" % k, "Ruby validator port rejects it", t)
        run.check_invalid("vector-stricter-%d" % k, t)


MUTATIONS = [b" ", b"\t", b"\n", b"\\", b"/", b".", b":", b"+", b"0", b"7", b"4", b"A", b"a", b"\x00", b"\x0b",
             b"\r", b"\\056", b"\\057", b"\\134", b"\\400", b"/.", b"/..", b" 0:0:.", b"\\0", b"\xff", b"\xc3"]


def mutant(rng, text):
    """One or two random edits of a valid manifest: insert a troublesome byte or token, delete a
    few bytes, or double a space."""
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(text) + 1)
        k = rng.random()
        if k < 0.6:
            text = text[:i] + rng.choice(MUTATIONS) + text[i:]
        elif k < 0.9:
            text = text[:i] + text[i + rng.randint(1, 3):]
        else:
            text = text[:i] + text[i:].replace(b" ", b"  ", 1)
    return text


def run_mutant(run, case, text):
    """Ruby rejects -> Cairn must reject (with a line number); Ruby accepts and the text is inside
    Cairn's extra rules -> every check of a random manifest; anything else is not counted."""
    if ruby_validate(text) is not None:
        run.check_invalid(case, text)
    elif cairn_rules_ok(text) and sdk_quirk_free(text):
        run.full(case, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cairn", help="path to the cairn binary")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=300, help="random manifests (default 300)")
    ap.add_argument("--case", type=int, default=None, help="run only this random case (and its mutant)")
    ap.add_argument("--mutants", type=int, default=None,
                    help="mutated manifests for the validator differential (default: --count)")
    ap.add_argument("--no-fixed", action="store_true", help="skip the fixed vectors")
    ap.add_argument("--no-shrink", action="store_true", help="save failing manifests unreduced")
    ap.add_argument("--sdk-quirks", action="store_true",
                    help="also generate inputs the Python SDK mishandles (see the module docstring)")
    ap.add_argument("--dump", action="store_true", help="print each generated manifest (repr) and stop")
    args = ap.parse_args()
    if not os.access(args.cairn, os.X_OK):
        ap.error("not an executable: %s" % args.cairn)

    run = Runner(Cairn(os.path.abspath(args.cairn)), args.seed, shrink=not args.no_shrink)
    if not args.no_fixed and args.case is None and not args.dump:
        run_fixed(run)
    cases = [args.case] if args.case is not None else range(args.count)
    for k in cases:
        text = Gen(random.Random("%d/%d" % (args.seed, k)), args.sdk_quirks).manifest()
        if args.dump:
            print(k, repr(text))
            continue
        case = "random-%d" % k
        if not args.sdk_quirks and not (cairn_rules_ok(text) and sdk_quirk_free(text)):
            run.selftest(False, case, "generator produced a manifest outside Cairn's rules: %s"
                         % (ruby_validate(text) or "segment/locator/quirk rule"), text)
            continue
        run.full(case, text)
    mutants = args.count if args.mutants is None else args.mutants
    for k in ([args.case] if args.case is not None else range(mutants)):
        if args.dump:
            break
        base = Gen(random.Random("%d/%d" % (args.seed, k)), args.sdk_quirks).manifest()
        run_mutant(run, "mutant-%d" % k, mutant(random.Random("%d/m%d" % (args.seed, k)), base))
    if run.outdir:
        print("reproducers saved under %s" % run.outdir)
    print("crosscheck: %d passed, %d failed" % (run.passed, run.failed))
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
