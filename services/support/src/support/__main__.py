"""Run the support service: `python -m support`."""

from pathlib import Path

from servicekit.runner import run_service
from support.bootstrap import build_app
from support.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    settings = Settings()
    run_service(settings, lambda: build_app(settings), MIGRATIONS)


if __name__ == "__main__":
    main()
