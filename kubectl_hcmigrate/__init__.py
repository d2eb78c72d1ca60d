"""Back up, restore and migrate HyperShift hosted clusters between management clusters."""

__version__ = "0.1.0"

# True in the process of the command itself, which ends with its one run (__main__ sets it; here, as
# this package is loaded on every start, where commands.py is not): from the run's result to the
# exit, commands.py holds Ctrl-C and SIGTERM.
ends_with_run = False
