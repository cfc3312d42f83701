#!/usr/bin/env python3
"""
Moves unit tests into folders mirroring src/ (a test of src/core/backup/x.ts lives in
test/unit/core/backup/) and rewrites every relative import in test/ to match. Idempotent: run it after
merging a branch that added tests under an old folder (test/unit/backup/, test/unit/kopia/, ...).
Usage: python3 scripts/mirror-unit-tests.py [repo-dir]   (then `bunx biome check --write .`)
A test git placed in the new folder during a merge gets its imports re-anchored; a path it builds from
import.meta.dir ("..", "fixtures") is not: add the missing "..".
"""
import os, re, subprocess, sys
root = sys.argv[1] if len(sys.argv) > 1 else "."
os.chdir(root)
T = "test/unit"
DIRS = {  # old dir -> new dir (under test/unit)
    "backup": "core/backup", "containers": "core/containers", "discovery": "core/discovery",
    "kopia": "core/kopia", "restore": "core/restore", "docker": "core/docker", "alerts": "core/alerts", "snapshot": "core/snapshot",
}
FILES = {  # old path -> new path (under test/unit), overriding DIRS
    "lock.test.ts": "core/lock/lock.test.ts",
    "signal-path.test.ts": "core/signal-path.test.ts",
    "core/runner.test.ts": "core/process/runner.test.ts",
    "core/doctor-report.test.ts": "core/doctor.test.ts",
    "backup/progress-render.test.ts": "ui/progress.test.ts",
    "backup/policy.test.ts": "core/kopia/policy.test.ts",
    "restore/progress.test.ts": "ui/restore-progress.test.ts",
    "restore/wizard.test.ts": "ui/restore-wizard.test.ts",
    "restore/wizard-allow-path.test.ts": "ui/restore-wizard-allow-path.test.ts",
    "systemd/report.test.ts": "ui/systemd-report.test.ts",
}
files = subprocess.run(["git", "ls-files", "test"], capture_output=True, text=True, check=True).stdout.split()
files += subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "test"], capture_output=True, text=True).stdout.split()
files = [f for f in files if f.endswith(".ts")]
moves = {}
for f in files:
    if not f.startswith(T + "/"): continue
    rel = f[len(T) + 1:]
    new = FILES.get(rel)
    if new is None:
        d = rel.split("/")[0] if "/" in rel else None
        if d in DIRS: new = DIRS[d] + rel[len(d):]
        elif d and os.path.isdir(f"src/core/{d}") and not os.path.isdir(f"src/{d}"): new = f"core/{d}" + rel[len(d):]
    if new and new != rel:
        moves[f] = f"{T}/{new}"
for old, new in moves.items():
    if os.path.exists(new): sys.exit(f"target exists: {new}")
# rewrite imports first (computed from old locations), then move
spec = re.compile(r'((?:from|import)\s*\(?\s*["\'])(\.{1,2}/[^"\']+)(["\'])')
loc = lambda p: moves.get(p, p)
for f in files:
    text = open(f).read()
    here_old = os.path.dirname(f); here_new = os.path.dirname(loc(f))
    def fix(m):
        target = os.path.normpath(os.path.join(here_old, m.group(2)))
        target = loc(target)
        r = os.path.relpath(target, here_new)
        if not r.startswith("."): r = "./" + r
        return m.group(1) + r + m.group(3)
    new_text = spec.sub(fix, text)
    # import.meta.dir-relative paths ("..", "..") in tests that moved deeper
    delta = loc(f).count("/") - f.count("/")
    if delta > 0:
        new_text = re.sub(r'import\.meta\.dir, (?=\"\.\.\")', 'import.meta.dir, ' + '"..", ' * delta, new_text)
        new_text = re.sub(r'import\.meta\.dir, "(?=\.\./)', 'import.meta.dir, "' + '../' * delta, new_text)
    if new_text != text: open(f, "w").write(new_text)
for old, new in moves.items():
    os.makedirs(os.path.dirname(new), exist_ok=True)
    subprocess.run(["git", "mv", old, new], check=True)
for old, new in sorted(moves.items()): print(f"{old} -> {new}")
# A test git already placed in a renamed folder (a merge's "CONFLICT (file location)") keeps imports
# written for its old depth: re-anchor each relative import that resolves to nothing.
def reanchor(f):
    text = open(f).read()
    here = os.path.dirname(f)
    def fix(m):
        if os.path.exists(os.path.normpath(os.path.join(here, m.group(2)))): return m.group(0)
        rest = re.sub(r"^(\./|(\.\./)+)", "", m.group(2))
        for k in range(0, 7):
            cand = os.path.normpath(os.path.join(here, "../" * k, rest))
            if os.path.exists(cand):
                r = os.path.relpath(cand, here)
                return m.group(1) + (r if r.startswith(".") else "./" + r) + m.group(3)
        return m.group(0)
    new_text = spec.sub(fix, text)
    if new_text != text:
        open(f, "w").write(new_text); print(f"re-anchored imports in {f}")
for f in files:
    if os.path.exists(loc(f)): reanchor(loc(f))
# docs and fixtures that name a moved test by its path
docs = subprocess.run(["git", "ls-files", "ARCHITECTURE.md", "README.md", "test/fixtures", "test/helpers", "scripts", "bench"],
                      capture_output=True, text=True).stdout.split()
for d in docs:
    try: text = open(d).read()
    except (UnicodeDecodeError, IsADirectoryError): continue
    new_text = text
    for old, new in moves.items(): new_text = new_text.replace(old, new)
    if new_text != text:
        open(d, "w").write(new_text); print(f"updated {d}")
