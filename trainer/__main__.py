"""`python -m trainer`: the same command as the `trainer` console script."""

from trainer.cli.main import main

main()
