"""What the tests share, importable from any test as ``support.<module>`` (pytest puts tests/ on ``sys.path``).

``bodies``: model request bodies, Enkrypt's documented examples and the ``model_body`` factory every test makes
its bodies with; ``varied_models``: twenty varied bodies for the export tests; ``cli``: the real, pinned Pulumi
CLI driven against a throwaway project and backend (``PulumiProject``, ``server_project``); ``lifecycle``: the
lifecycle program (Enkrypt's two examples, a secret from every source) and a project of it; ``server``: the local
Enkrypt server's keys per suite, its no-fault settings, and reads of what it holds and was asked;
``provider_host``: the Pulumi SDK's own dynamic-provider host driven over gRPC; ``faults``: the fault tests'
figures, their JSON-driven program, the end-state check and the recording proxy; ``reinstall``: this package
installed at another version (or a past release) into a throwaway venv; ``smoke_provider``: a trivial dynamic
provider for the engine smoke test. Helpers build, run and report; the assertions are in the tests.
"""
