"""`python -m registry …` is the `registry` command (the task worker is started this way by the server)."""
from registry.app import main

main()
