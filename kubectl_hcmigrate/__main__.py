"""Entry point: checks the interpreter before anything else is imported."""

import sys

MIN_PYTHON = (3, 10)


def main() -> None:
    if sys.version_info < MIN_PYTHON:
        found = ".".join(map(str, sys.version_info[:3]))
        sys.stderr.write(
            f"hcmigrate needs Python >= {MIN_PYTHON[0]}.{MIN_PYTHON[1]} (found {found}); "
            "put a newer python3 first on PATH.\n"
        )
        sys.exit(2)
    # Imported here so the version check above runs even if the CLI cannot import.
    from kubectl_hcmigrate.cli import run

    run()


if __name__ == "__main__":
    main()
