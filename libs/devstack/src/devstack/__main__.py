"""`python -m devstack` is `factora-stack`."""

import sys

from devstack.cli import main

sys.exit(main())
