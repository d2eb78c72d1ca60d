"""Pure rules and data: no Kubernetes or S3 client, no verb."""
