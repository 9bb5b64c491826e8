"""`python -m sv2tts`: see sv2tts.cli."""

from sv2tts.cli import main

raise SystemExit(main())
