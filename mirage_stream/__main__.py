import sys

from mirage_stream.cli import main

sys.exit(main())
