import sys

from assignments.cli import main

sys.exit(main())
