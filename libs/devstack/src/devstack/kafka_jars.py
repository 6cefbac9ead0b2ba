"""Kafka's jars from Maven Central and the Java that runs them: fetched once, checked every start."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from devstack import errors

MIN_JAVA = 17
COMPLETE_MARKER = ".complete"

# Maven's closing chatter after the real error: none of these say what went wrong.
_MAVEN_NOISE = re.compile(
    r"^\[ERROR\]\s*($|->|To see the full|Re-run Maven|For more information|\[Help|"
    r"After correcting)",
)


def find_java() -> str:
    """Path of the java launcher: JAVA_HOME's if set, else PATH's."""
    if home := os.environ.get("JAVA_HOME"):
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file():
            return str(candidate)
    java = shutil.which("java")
    if java is None:
        raise errors.java_missing()
    return java


def parse_java_version(text: str) -> tuple[int, str] | None:
    """Major version and full version string from `java -version` output."""
    match = re.search(r'version "([^"]+)"', text)
    if not match:
        return None
    full = match.group(1)
    parts = full.split(".")
    # Java 8 and older report "1.8.0_392"; 9+ report "17.0.15"
    major = int(parts[1]) if parts[0] == "1" and len(parts) > 1 else int(re.split(r"\D", parts[0])[0])
    return major, full


def check_java() -> str:
    """The java launcher to use; a one-line StackError when missing or older than 17."""
    java = find_java()
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argv
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise errors.StackError(f"cannot run {java} -version: {exc}") from None
    parsed = parse_java_version(proc.stderr + proc.stdout)
    if parsed is None:
        raise errors.StackError(f"cannot tell the version of {java} from `java -version`")
    major, full = parsed
    if major < MIN_JAVA:
        raise errors.java_too_old(full, java)
    return java


def maven_last_error(output: str) -> str:
    """The last line of Maven's output that says what went wrong."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors_only = [ln for ln in lines if ln.startswith("[ERROR]") and not _MAVEN_NOISE.match(ln)]
    chosen = errors_only[-1] if errors_only else (lines[-1] if lines else "no output")
    chosen = re.sub(r"\x1b\[[0-9;]*m", "", chosen)
    return chosen.removeprefix("[ERROR]").strip()


def _pom_digest(home: Path) -> str:
    return hashlib.sha256((home / "pom.xml").read_bytes()).hexdigest()


def jars_ready(home: Path) -> bool:
    """True when lib/ holds a complete download made from the current pom.xml."""
    marker = home / "lib" / COMPLETE_MARKER
    try:
        return marker.read_text().strip() == _pom_digest(home)
    except OSError:
        return False


def ensure_jars(home: Path, *, quiet: bool = True) -> Path:
    """Fill home/lib from pom.xml with Maven unless a complete download is already there."""
    lib = home / "lib"
    if jars_ready(home):
        return lib
    if not (home / "pom.xml").is_file():
        raise errors.StackError(f"no pom.xml in {home}: set FACTORA_KAFKA_HOME to deploy/local/kafka")
    mvn = shutil.which("mvn")
    if mvn is None:
        raise errors.mvn_missing(str(lib))
    lib.mkdir(parents=True, exist_ok=True)
    # Two stacks starting at once (dev + tests) must not interleave two downloads.
    with (lib / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if jars_ready(home):
            return lib
        # A pom.xml change (new Kafka version) must not leave old jars on the classpath.
        for stale in lib.glob("*.jar"):
            stale.unlink()
        (lib / "kafka.jsa").unlink(missing_ok=True)
        argv = [
            mvn,
            *(["-q"] if quiet else []),
            "-B",
            "-Dstyle.color=never",
            "dependency:copy-dependencies",
            "-DoutputDirectory=lib",
            "-DincludeScope=runtime",
        ]
        proc = subprocess.run(  # noqa: S603 - fixed argv
            argv, cwd=home, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0 or not any(lib.glob("kafka_*.jar")):
            raise errors.mvn_failed(maven_last_error(proc.stdout + proc.stderr), str(home))
        (lib / COMPLETE_MARKER).write_text(_pom_digest(home) + "\n")
    return lib
