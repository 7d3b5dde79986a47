"""The content-addressed asset store: local files (local) or S3 (s3, the only module that imports
boto3)."""
