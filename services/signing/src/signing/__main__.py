"""Run the signing service: `python -m signing`."""

from pathlib import Path

from servicekit.runner import run_service
from signing.bootstrap import build_app
from signing.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    settings = Settings()
    run_service(settings, lambda: build_app(settings), MIGRATIONS)


if __name__ == "__main__":
    main()
