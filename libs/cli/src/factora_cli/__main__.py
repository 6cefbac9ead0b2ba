"""`python -m factora_cli`: the same as the `factora` command."""

from factora_cli.app import main

main()
