"""The edge: the only modules that import kubernetes, websocket, boto3 or botocore."""
