"""Run the invoicing service: `python -m invoicing`."""

from pathlib import Path

from invoicing.bootstrap import build_app
from invoicing.settings import Settings
from servicekit.runner import run_service

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    settings = Settings()
    run_service(settings, lambda: build_app(settings), MIGRATIONS)


if __name__ == "__main__":
    main()
