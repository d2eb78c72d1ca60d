"""The sandbox's HyperShift twin: one controller process per management cluster behaving as
HyperShift's operators do where hcmigrate touches them (rows T1-T14 of HYPERSHIFT.md), with
the hosted cluster's cloud kept in the cloud twin. See `__main__` for how it is wired."""
