from cdi.cli import main

main()
