"""The etcd snapshot: taken through exec, verified as it streams, and watched as HyperShift restores it."""
