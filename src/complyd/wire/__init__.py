"""The AWS JSON 1.1 edge: decoding, validation, signatures, tokens and encoding."""
