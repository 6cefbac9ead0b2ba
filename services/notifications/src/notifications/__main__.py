"""Run the notifications service: `python -m notifications`."""

from pathlib import Path

from notifications.bootstrap import build_app
from notifications.settings import Settings
from servicekit.runner import run_service

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    settings = Settings()
    run_service(settings, lambda: build_app(settings), MIGRATIONS)


if __name__ == "__main__":
    main()
