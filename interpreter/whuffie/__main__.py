"""python -m whuffie"""

from .cli import main

main()
