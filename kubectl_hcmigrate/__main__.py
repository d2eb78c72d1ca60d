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
    import signal

    import kubectl_hcmigrate
    from kubectl_hcmigrate.cli import run

    kubectl_hcmigrate.ends_with_run = True
    try:
        run()
    finally:  # the run has said how it ended: a signal during the interpreter's shutdown changes nothing
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


if __name__ == "__main__":
    main()
