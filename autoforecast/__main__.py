"""`python -m autoforecast`: the command line."""

from autoforecast.cli import app

if __name__ == "__main__":
    app(prog_name="autoforecast")
