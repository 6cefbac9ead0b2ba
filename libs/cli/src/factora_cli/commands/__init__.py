"""One module per `factora` command group."""
