"""`python -m devices`: see devices/cli.py."""

import sys

from devices.cli import main

sys.exit(main())
