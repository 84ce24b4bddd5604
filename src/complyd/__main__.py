"""`python -m complyd` runs the command-line interface."""

from complyd.cli import main

main()
