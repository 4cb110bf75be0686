"""HTTP plumbing shared by every domain: problem responses and the one mapping
of errors to them, strict request bodies, ETags, requests in flight and
pre-encoded responses. Imports only the kernel and the database layer.
"""
