"""A local Enkrypt-compatible API server (FastAPI + uvicorn, the ``server`` extra): the calls of every resource
kind of ``pulumi_enkrypt.server.app.KINDS``, each built from its declaration in ``pulumi_enkrypt.kinds``.

Run it with ``python -m pulumi_enkrypt.server``; drive it from tests with :mod:`pulumi_enkrypt.server.process`.
"""


def parse_api_key(spec: str) -> tuple[str, str]:
    """``KEY`` (project "default") or ``KEY=PROJECT``; a trailing ``=`` (base64 padding) stays in the key."""
    key, sep, project = spec.rpartition("=")
    if sep and key and project:
        return key, project
    return spec, "default"
