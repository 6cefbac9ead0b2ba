"""One-line, actionable errors for everything that can stop the local stack from starting."""

from __future__ import annotations


class StackError(Exception):
    """A problem the developer must fix; its message is one line and says what to do."""

    def __init__(self, message: str) -> None:
        # Multi-line tool output must never leak into the one-line message.
        super().__init__(" ".join(message.split()))


def port_in_use(part: str, port: int, env_var: str, host: str = "127.0.0.1") -> StackError:
    """The message for a port another process already listens on."""
    return StackError(
        f"{part} cannot start: port {port} on {host} is already in use; "
        f"stop whatever listens there (a stack left running? try `factora-stack down`) "
        f"or set {env_var} to a free port"
    )


def java_missing() -> StackError:
    """The message for a machine without a Java runtime."""
    return StackError(
        "Kafka needs Java 17 or newer but `java` was not found on PATH (nor in JAVA_HOME); "
        "install a JDK 17+ (e.g. apt-get install openjdk-17-jre-headless) "
        "or set KAFKA_BOOTSTRAP_SERVERS to use an external broker"
    )


def java_too_old(version: str, java: str) -> StackError:
    """The message for a Java runtime older than Kafka 4 accepts."""
    return StackError(
        f"Kafka 4 needs Java 17 or newer but {java} is version {version}; "
        "install a JDK 17+ and put it first on PATH (or set JAVA_HOME), "
        "or set KAFKA_BOOTSTRAP_SERVERS to use an external broker"
    )


def mvn_missing(lib_dir: str) -> StackError:
    """The message for missing Kafka jars on a machine without Maven."""
    return StackError(
        f"Kafka jars are not in {lib_dir} and `mvn` was not found on PATH to fetch them; "
        "install Maven (e.g. apt-get install maven) "
        "or set KAFKA_BOOTSTRAP_SERVERS to use an external broker"
    )


def mvn_failed(last_error: str, kafka_home: str) -> StackError:
    """The message for a failed Maven jar download, quoting Maven's own last error."""
    return StackError(
        f"fetching the Kafka jars with Maven failed: {last_error} "
        f"(retry with `cd {kafka_home} && mvn -B dependency:copy-dependencies "
        "-DoutputDirectory=lib -DincludeScope=runtime` to see everything)"
    )


def postgres_failed(detail: str, log_path: str) -> StackError:
    """The message for a PostgreSQL server that did not start."""
    return StackError(f"PostgreSQL did not start: {detail}; see its log {log_path}")


def kafka_failed(detail: str, log_path: str) -> StackError:
    """The message for a Kafka broker that did not start."""
    return StackError(f"Kafka did not start: {detail}; see its log {log_path}")
