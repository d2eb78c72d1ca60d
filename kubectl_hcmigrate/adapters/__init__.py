"""The edge: the only modules that import kubernetes, websocket, boto3 or botocore."""

from kubectl_hcmigrate.adapters import kube_package

# Before any adapter imports kubernetes: its packages without the generated models (kube_package.py).
kube_package.load()
