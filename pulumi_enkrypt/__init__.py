"""Manage Enkrypt AI model endpoints as code with Pulumi."""
