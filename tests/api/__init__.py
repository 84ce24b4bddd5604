"""Black-box API tests: a real complyd process, driven by boto3, the AWS CLI and raw HTTP."""
