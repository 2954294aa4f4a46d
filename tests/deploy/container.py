#!/usr/bin/env python3
"""Replays deploy/container/Containerfile's build without a container engine.

So that a file the build needs but the Containerfile does not COPY fails CI:
- the build context is the repository's tracked files less what .dockerignore leaves out;
- each stage gets a clean folder as its file system: its COPY lines copy from the context (or,
  with --from, from an earlier stage's folder), WORKDIR and ENV apply, and its RUN commands run
  in that folder with the stage's ENV and nothing else of the caller's environment but PATH,
  HOME and the Cargo/rustup homes; `apk` installs are skipped (the host has the toolchain);
- the build is offline: CARGO_HOME must hold a config that replaces crates.io by vendored
  sources and sets `net.offline` (tests/deploy/offline.sh writes one);
- the final stage is checked: one of several (multi-stage), a non-root USER, a stripped ENTRYPOINT binary, a HEALTHCHECK;
  then the image's command is started with the image's ENV (on 127.0.0.1 and a free port
  instead of 0.0.0.0:7779) and the HEALTHCHECK command must exit 0 against it.

Only the instructions the Containerfile uses are understood; any other fails the replay, so
the replay cannot drift silently from the file. Usage (from anywhere; it works in a temporary
folder, removed afterwards):
    CARGO_HOME=DIR python3 tests/deploy/container.py
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

CONTAINERFILE = Path("deploy/container/Containerfile")
IGNORE_FILE = Path(".dockerignore")
# Bounds: the release build (LTO, two cores) takes a few minutes; the server starts in ms.
BUILD_TIMEOUT = 1200
START_TIMEOUT = 10


def fail(message):
    sys.exit(f"container.py: {message}")


def instructions(text):
    """(KEYWORD, arguments) per instruction: comments dropped, `\\` continuations joined."""
    joined, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not (stripped or pending):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        joined.append(pending + stripped)
        pending = ""
    if pending:
        fail("the Containerfile ends inside a continued line")
    return [tuple((line.split(None, 1) + [""])[:2]) for line in joined]


def options(args):
    """A COPY's leading `--name=value` options, and its other words."""
    found = {}
    words = shlex.split(args)
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        found[name] = value
    return found, words


def pattern_regex(pattern):
    """A .dockerignore pattern as a regex over slash-separated paths (Go's filepath.Match, plus
    `**` for any number of folders, none included)."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def ignored(path, rules):
    """Whether the engine leaves `path` out: the last rule matching it or a folder above it
    wins, `!` rules putting paths back in."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    left_out = False
    for negated, regex in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            left_out = not negated
    return left_out


def build_context(into):
    """The tracked files less the ignored ones, copied into `into`; their relative paths."""
    rules = []
    if IGNORE_FILE.exists():
        for line in IGNORE_FILE.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                negated = line.startswith("!")
                pattern = line.lstrip("!").strip("/")
                rules.append((negated, pattern_regex(pattern)))
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], check=True, capture_output=True, text=True
    ).stdout.split("\0")
    kept = [path for path in tracked if path and not ignored(path, rules)]
    for path in kept:
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return kept


def inside(root, container_path):
    """A path of a stage's file system, in the folder standing for it."""
    return root / container_path.lstrip("/")


def copy(origins, dest_path, into_folder):
    """COPY: a file keeps its name in a folder destination; a folder's contents are copied."""
    for origin in origins:
        if origin.is_dir():
            shutil.copytree(origin, dest_path, dirs_exist_ok=True, symlinks=True)
        else:
            target = dest_path / origin.name if into_folder else dest_path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)


def copy_sources(words, flags, context, roots):
    """The files a COPY names: in the context, or with --from in that stage's folder."""
    origins = []
    for source in words[:-1]:
        if any(c in source for c in "*?["):
            fail(f"COPY {source}: globs are not replayed; name the files")
        if "from" in flags:
            origin = inside(roots[flags["from"]], source)
            missing = f"COPY --from={flags['from']} {source}: that stage did not make it"
        else:
            origin = context / source
            missing = (
                f"COPY {source}: not in the build context (not tracked by git, or left out "
                f"by {IGNORE_FILE})"
            )
        if not origin.exists():
            fail(missing)
        origins.append(origin)
    return origins


def env_pairs(args):
    words = shlex.split(args)
    if len(words) == 2 and "=" not in words[0]:
        return [tuple(words)]
    return [tuple(word.split("=", 1)) for word in words]


def exec_form(args, keyword):
    try:
        argv = json.loads(args)
    except json.JSONDecodeError:
        argv = None
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        fail(f"{keyword} must be in JSON form (the image has no shell): {args}")
    return argv


def check_offline():
    home = os.environ.get("CARGO_HOME")
    config = Path(home or "/nonexistent") / "config.toml"
    text = config.read_text() if config.exists() else ""
    if "replace-with" not in text or not re.search(r"^offline\s*=\s*true", text, re.M):
        fail(
            "CARGO_HOME must hold a config.toml replacing crates.io by vendored sources with "
            "net.offline = true (run tests/deploy/offline.sh, which writes one)"
        )


def replay(work):
    check_offline()
    context = work / "context"
    context.mkdir()
    build_context(context)
    stages, roots = [], {}
    for keyword, args in instructions(CONTAINERFILE.read_text()):
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(stages))
            stage = {"name": name, "root": work / "stages" / name, "workdir": "/", "env": {}}
            stage["root"].mkdir(parents=True)
            stages.append(stage)
            roots[name] = stage["root"]
            print(f"-- FROM {args}")
            continue
        if not stages:
            fail(f"{keyword} before FROM")
        stage = stages[-1]
        if keyword == "WORKDIR":
            stage["workdir"] = args if args.startswith("/") else f"{stage['workdir']}/{args}"
            inside(stage["root"], stage["workdir"]).mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            flags, words = options(args)
            unknown = set(flags) - {"from", "chown", "chmod"}
            if unknown or len(words) < 2:
                fail(f"COPY {args}: not understood")
            dest = words[-1]
            dest_path = inside(
                stage["root"], dest if dest.startswith("/") else f"{stage['workdir']}/{dest}"
            )
            origins = copy_sources(words, flags, context, roots)
            copy(origins, dest_path, dest.endswith("/") or len(origins) > 1)
        elif keyword == "ENV":
            stage["env"].update(env_pairs(args))
        elif keyword == "RUN":
            if args.startswith("apk "):
                print(f"-- RUN {args}  (skipped: system packages)")
                continue
            print(f"-- RUN {args}")
            environment = {
                name: os.environ[name]
                for name in ("PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME")
                if name in os.environ
            }
            environment.update(stage["env"])
            status = subprocess.run(
                ["sh", "-c", args],
                cwd=inside(stage["root"], stage["workdir"]),
                env=environment,
                timeout=BUILD_TIMEOUT,
            ).returncode
            if status != 0:
                fail(f"RUN {args}: exit status {status}")
        elif keyword == "USER":
            stage["user"] = args
        elif keyword == "HEALTHCHECK":
            command = re.fullmatch(r"(?:--\S+\s+)*CMD\s+(.*)", args)
            if not command:
                fail(f"HEALTHCHECK {args}: expected [--options] CMD [...]")
            stage["healthcheck"] = exec_form(command.group(1), "HEALTHCHECK")
        elif keyword == "ENTRYPOINT":
            stage["entrypoint"] = exec_form(args, "ENTRYPOINT")
        elif keyword == "EXPOSE":
            pass
        else:
            fail(f"{keyword}: not replayed (teach tests/deploy/container.py what it means)")
    if len(stages) < 2:
        fail("one stage: the image would carry the toolchain and the sources")
    return stages[-1]


def check_image(image):
    user = image.get("user", "root").split(":")[0]
    if user in ("root", "0"):
        fail(f"the image runs as {user}: give it a non-root USER")
    if "entrypoint" not in image or "healthcheck" not in image:
        fail("the image needs an ENTRYPOINT and a HEALTHCHECK")
    binary = inside(image["root"], image["entrypoint"][0])
    if not binary.exists():
        fail(f"ENTRYPOINT {image['entrypoint'][0]} is not in the image")
    sections = subprocess.run(
        ["readelf", "-S", binary], check=True, capture_output=True, text=True
    ).stdout
    if ".symtab" in sections:
        fail(f"{image['entrypoint'][0]} is not stripped")
    size = binary.stat().st_size
    print(f"-- image: user {user}, {image['entrypoint'][0]} stripped ({size / 1e6:.1f} MB)")


def image_env(image, port):
    """The image's ENV as the replay runs it: paths mapped into its folder, loopback, `port`."""
    env = {"PATH": "/usr/bin:/bin"}
    for name, value in image["env"].items():
        mapped = inside(image["root"], value)
        env[name] = str(mapped) if value.startswith("/") and mapped.exists() else value
    env.update(OPENBB_FILES_HOST="127.0.0.1", OPENBB_FILES_PORT=str(port))
    return env


def run_image(image):
    """Starts the image's command and runs its HEALTHCHECK against it: exit 0 expected."""
    argv = [str(inside(image["root"], image["entrypoint"][0]))] + image["entrypoint"][1:]
    server = subprocess.Popen(
        argv,
        env=image_env(image, 0),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        signal.signal(signal.SIGALRM, lambda *_: fail("the image's command printed nothing"))
        signal.alarm(START_TIMEOUT)
        first = server.stdout.readline().strip()
        signal.alarm(0)
        match = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)", first)
        if not match:
            fail(f"the image's command did not start: {first!r}")
        check = [str(inside(image["root"], image["healthcheck"][0]))] + image["healthcheck"][1:]
        result = subprocess.run(
            check,
            env=image_env(image, int(match.group(1))),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
        if result.returncode != 0:
            fail(f"HEALTHCHECK exited {result.returncode}: {result.stdout}{result.stderr}")
        print(f"-- HEALTHCHECK: {result.stdout.strip()}")
    finally:
        server.terminate()
        server.wait(timeout=START_TIMEOUT)


def main():
    os.chdir(Path(__file__).resolve().parents[2])
    with tempfile.TemporaryDirectory(prefix="openbb-files-container-") as work:
        image = replay(Path(work))
        check_image(image)
        run_image(image)
    print("Containerfile build replayed: ok")


if __name__ == "__main__":
    main()
