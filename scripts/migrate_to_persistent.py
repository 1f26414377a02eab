#!/usr/bin/env python3
"""The original TED's migration command, kept so the deployment guide's
`python scripts/migrate_to_persistent.py [--check-only]` works as written: it runs
`scripts/migrate` (which runs `ted migrate`, building the release binary when needed)
with the same arguments, and exits with its status (3 = migrations pending)."""
import os
import sys

script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrate")
os.execv(script, [script] + sys.argv[1:])
