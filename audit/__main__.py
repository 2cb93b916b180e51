"""`python -m vaeaudit` runs the same CLI as the `vaeaudit` script."""

from vaeaudit.cli import main

if __name__ == "__main__":
    main(prog_name="vaeaudit")
