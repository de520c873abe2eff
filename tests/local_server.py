"""What the end-to-end tests share about the local Enkrypt server (a uniquely named module: several test
folders have a conftest, so `from conftest import ...` would be ambiguous)."""

E2E_API_KEY = "e2e-api-key-3f9a7c"
