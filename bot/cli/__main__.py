"""`python -m bot.cli` runs `vigil`."""

from bot.cli import main

main()
