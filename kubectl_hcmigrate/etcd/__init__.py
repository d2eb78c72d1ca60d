"""The etcd snapshot: taken through exec, verified as it streams."""
