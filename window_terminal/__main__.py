import sys

from window_terminal.cli import main

sys.exit(main())
