"""Run the identity service: `python -m identity`."""

from pathlib import Path

from identity.bootstrap import build_app
from identity.settings import Settings
from servicekit.runner import run_service

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    settings = Settings()
    run_service(settings, lambda: build_app(settings), MIGRATIONS)


if __name__ == "__main__":
    main()
