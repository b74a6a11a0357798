#!/usr/bin/env bash
# Sets the image tag of every tanksim image in a kustomize overlay: rewrites `newTag` of each
# entry of the `images:` list of OVERLAY_DIR/kustomization.yaml whose `name` is a
# ghcr.io/tanksim/* image, and nothing else. The release workflow runs it for the GitOps
# handoff (dev -> deploy/overlays/dev, main -> deploy/overlays/prod) and the e2e-cluster
# workflow on a scratch copy of the dev overlay (docs/ci.md).
#
#   scripts/set-image-tag.sh OVERLAY_DIR TAG        e.g. deploy/overlays/dev sha-0123456789ab
#
# No kustomize binary is needed (`kustomize edit set image` would also reformat the file and
# drop its comments): the file is edited line by line, keeping comments, order and quoting,
# then checked before it is written: every ghcr.io/tanksim entry now carries TAG and no other
# line changed. Refuses (exit 1, file untouched) an entry it cannot edit safely: a tanksim
# image without a newTag line, with a digest (which would win over the tag), or a flow-style
# `{name: ..., newTag: ...}` entry. Exit 64 on bad arguments. Python 3 standard library only,
# so it runs on a bare CI runner; the `yaml` module, when importable, adds a semantic check.
set -euo pipefail

usage() { echo "usage: scripts/set-image-tag.sh OVERLAY_DIR TAG" >&2; exit 64; }
[ $# -eq 2 ] || usage
overlay="$1"
tag="$2"
file="$overlay/kustomization.yaml"
[ -f "$file" ] || { echo "set-image-tag: no $file" >&2; exit 64; }
# The OCI distribution spec's tag grammar: what a registry accepts and kustomize writes as is.
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || {
    echo "set-image-tag: '$tag' is not a valid image tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})" >&2
    exit 64
}

exec "${TANKSIM_PYTHON:-python3}" - "$file" "$tag" <<'PY'
import os
import re
import sys
import tempfile

PREFIX = "ghcr.io/tanksim/"
path, tag = sys.argv[1], sys.argv[2]


def fail(message):
    sys.exit(f"set-image-tag: {path}: {message}")


# `key: value  # comment` inside a list entry; the value may be quoted.
FIELD = re.compile(
    r"""^(?P<lead>\s*(?:-\s+)?)(?P<key>[A-Za-z][A-Za-z0-9_]*):(?P<gap>\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s#][^#]*?)?(?P<rest>\s*(?:#.*)?)$"""
)


def unquote(value):
    if value and value[0] in "'\"" and value[-1] == value[0]:
        return value[1:-1]
    return value


def entries(lines):
    """The `images:` list: [(first line, {key: (line index, raw value)})] for each entry."""
    starts = [i for i, line in enumerate(lines) if re.match(r"^images:\s*(#.*)?$", line)]
    if len(starts) != 1:
        fail(f"expected exactly one top-level `images:` key, found {len(starts)}")
    items, item_indent = [], None
    for i in range(starts[0] + 1, len(lines)):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if item_indent is None:
            if not stripped.startswith("-"):
                fail("`images:` is not a block list")
            item_indent = indent
        if indent < item_indent or (indent == item_indent and not stripped.startswith("-")):
            break  # the next top-level key
        if indent == item_indent:
            if re.match(r"^-\s*[\[{]", stripped):
                fail(f"line {i + 1}: flow-style image entries are not supported: {stripped}")
            items.append((i, {}))
        m = FIELD.match(line)
        if not m:
            fail(f"line {i + 1}: cannot read this line of an image entry: {stripped}")
        fields = items[-1][1]
        if m.group("key") in fields:
            fail(f"line {i + 1}: `{m.group('key')}` repeated in one image entry")
        fields[m.group("key")] = (i, m.group("value") or "")
    return items


# A plain scalar YAML would read as a number, boolean or null must be quoted to stay a string.
NOT_A_STRING = re.compile(r"^(?:[-+0-9._eE]+|~|null|true|false|yes|no|on|off|y|n)$", re.IGNORECASE)


def render(raw, new):
    if raw[:1] in ("'", '"'):
        return f"{raw[0]}{new}{raw[0]}"
    return f'"{new}"' if NOT_A_STRING.match(new) else new


with open(path, encoding="utf-8", newline="") as f:
    original = f.read()
lines = original.splitlines(keepends=True)

targets = []
for first, fields in entries(lines):
    name = unquote(fields.get("name", (first, ""))[1])
    if not name.startswith(PREFIX):
        continue
    if "digest" in fields:
        fail(f"line {first + 1}: {name} has a digest, which kustomize prefers over newTag")
    if "newTag" not in fields:
        fail(f"line {first + 1}: {name} has no newTag line to rewrite")
    targets.append((name, fields["newTag"][0]))
if not targets:
    fail(f"no `images:` entry names a {PREFIX}* image")

new_lines = list(lines)
for name, i in targets:
    m = FIELD.match(lines[i].rstrip("\r\n"))
    ending = lines[i][len(lines[i].rstrip("\r\n")):]
    new_lines[i] = (
        m.group("lead") + "newTag:" + (m.group("gap") or " ")
        + render(m.group("value") or "", tag) + m.group("rest") + ending
    )
updated = "".join(new_lines)

# Checks before writing: the edit is exactly the intended one.
after = updated.splitlines(keepends=True)
if len(after) != len(lines):
    fail("internal error: the line count changed")
changed = {i for i, (a, b) in enumerate(zip(lines, after)) if a != b}
allowed = {i for _, i in targets}
if not changed <= allowed:
    fail(f"internal error: lines {sorted(i + 1 for i in changed - allowed)} changed")
for first, fields in entries(after):
    name = unquote(fields.get("name", (first, ""))[1])
    if name.startswith(PREFIX) and unquote(fields["newTag"][1]) != tag:
        fail(f"internal error: {name} did not get the tag {tag}")
try:
    import yaml  # optional: the same documents, but for the tags
except ImportError:
    yaml = None
if yaml is not None:
    before_doc, after_doc = yaml.safe_load(original), yaml.safe_load(updated)
    for image in before_doc.get("images", []):
        if str(image.get("name", "")).startswith(PREFIX):
            image["newTag"] = tag
    if before_doc != after_doc:
        fail("internal error: the YAML documents differ beyond the tanksim newTag values")

if updated != original:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".kustomization.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(updated)
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
print(f"set-image-tag: {path}: {len(targets)} tanksim images at {tag} ({len(changed)} lines changed)")
PY
