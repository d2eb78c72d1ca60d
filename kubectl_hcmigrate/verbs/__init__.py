"""The verbs: each builds a plan of named steps from what its preflight found."""
