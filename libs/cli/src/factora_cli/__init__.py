"""The `factora` command line for newcomers, partner IT teams and operators."""
