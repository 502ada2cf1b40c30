"""``python -m neural_network``: the same as the ``neural-network`` command."""

from neural_network.cli import main

raise SystemExit(main())
