"""A small Pulumi language host for Python programs (the `pulumi-language-python` plugin).

Why it exists: the Go module proxy this project builds from refuses the real host's module, so we serve the
same LanguageRuntime gRPC protocol here, with the stubs shipped in the `pulumi` Python SDK. It supports what
`pulumi up/preview/refresh/destroy` need for a `runtime: python` project that uses an existing interpreter
(the ambient one, `PULUMI_PYTHON_CMD`, or `runtime.options.virtualenv`), and runs provider plugins written in
Python (a `PulumiPlugin.yaml` directory: RunPlugin). It never installs dependencies.

Launch contract (as with every Pulumi plugin): the engine starts us with its own gRPC address as the last
positional argument, reads one line from stdout (our port), then talks gRPC. Everything the program prints
goes to our stdout/stderr, which the engine shows to the user.

Stopping a program: when a resource fails, the engine calls Cancel while the program may still wait on it, and
then interrupts our process group. A SIGINT would make the program's interpreter print a KeyboardInterrupt
traceback (and "lost sys.stderr" junk) that the engine shows under the Stack resource, next to the real error.
So the program runs in its own session (out of reach of the group signal) and is stopped with SIGTERM, which
ends a Python program without output; SIGKILL follows if it is still there after a grace period.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc  # type: ignore[import-untyped, unused-ignore]  # no stubs for grpcio
from google.protobuf import empty_pb2, json_format  # type: ignore[import-untyped, unused-ignore]
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

VERSION = "3.259.0"  # the Pulumi release whose protocol (and exec shim) we speak
EXECUTOR_NAME = "pulumi-language-python-exec"
# Exit code by which the exec shim says "I already showed the user a good message": the engine must bail quietly.
EXIT_USER_ACTIONABLE = 32
MAX_MESSAGE_BYTES = 400 * 1024 * 1024  # same limit the engine's own gRPC channels use
HEALTH_INTERVAL_S = 30.0
# Grace between SIGTERM and SIGKILL for a program: shorter than the 5 s the engine gives our process group between
# its SIGINT and its SIGKILL, so a program that ignores SIGTERM dies before we do (it is outside our group).
KILL_GRACE_S = 3.0
# How often the main thread wakes to run a signal handler that another thread received (see main).
SIGNAL_POLL_S = 0.1
# The Python SDK generator of the pinned release, as a Go program of this repository (GeneratePackage runs it).
SDK_GENERATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "sdk", "gen")


@dataclass(frozen=True)
class Python:
    """The interpreter a program runs with, and the environment that goes with it."""

    executable: str
    env: dict[str, str]


class HostError(Exception):
    """A failure to report to the engine as a gRPC error (the engine prints the message)."""


def resolve_python(info: language_pb2.ProgramInfo) -> Python:
    """Pick the interpreter like the real host's pip toolchain, but default to the one running us."""
    options: dict[str, Any] = json_format.MessageToDict(info.options) if info.HasField("options") else {}
    virtualenv = options.get("virtualenv")
    if virtualenv is not None:
        if not isinstance(virtualenv, str):
            raise HostError("virtualenv option must be a string")
        venv = os.path.join(info.root_directory, virtualenv)  # join keeps an absolute virtualenv as is
        python = os.path.join(venv, "bin", "python")
        if not os.path.isfile(python):
            state = "doesn't exist" if not os.path.exists(venv) else "doesn't appear to be a virtual environment"
            raise HostError(
                f"The 'virtualenv' option in Pulumi.yaml is set to {virtualenv!r}, but {venv!r} {state}; "
                f"create it with: python3 -m venv {venv} && {python} -m pip install -r requirements.txt"
            )
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "VIRTUAL_ENV")}
        env["PATH"] = os.path.join(venv, "bin") + os.pathsep + env.get("PATH", "")
        env["VIRTUAL_ENV"] = venv
        return Python(python, env)
    command = os.environ.get("PULUMI_PYTHON_CMD")
    if command:
        found = shutil.which(command)
        if found is None:
            raise HostError(f"PULUMI_PYTHON_CMD is {command!r}, which is not on PATH")
        return Python(found, dict(os.environ))
    return Python(sys.executable, dict(os.environ))


def run_args(req: language_pb2.RunRequest, executor: str, engine: str, tracing: str) -> list[str]:
    """The exec shim's command line, flag for flag what the real host passes (empty values are left out)."""
    flags = {
        "monitor": req.monitor_address,
        "engine": engine,
        "project": req.project,
        "root_directory": req.info.root_directory,
        "stack": req.stack,
        "pwd": req.pwd,
        "dry_run": "true" if req.dryRun else "false",
        "parallel": str(req.parallel),
        "tracing": tracing,
        "organization": req.organization,
    }
    args = [executor]
    for name, value in flags.items():
        if value:
            args += [f"--{name}", value]
    # Older engines only fill the deprecated `program` field.
    args.append(req.info.entry_point or req.program or ".")
    args += list(req.args)
    return args


def exit_message(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"program exited unexpectedly: signal: {name}"
    return f"program exited with non-zero exit code: {code}"


def abort(context: Any, code: Any, message: str) -> NoReturn:
    context.abort(code, message)  # raises; grpc turns it into a clean status
    raise AssertionError("unreachable")


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, executor: str, engine_address: str, tracing: str, stop: threading.Event) -> None:
        self.executor = executor
        self.engine_address = engine_address
        self.tracing = tracing
        self.stop = stop
        self._lock = threading.Lock()
        self._children: set[subprocess.Popen[bytes]] = set()
        self._cancelled: set[subprocess.Popen[bytes]] = set()  # programs we stopped: their exit is not an error
        if engine_address:
            start_health_check(engine_address, stop)

    def Handshake(self, request: language_pb2.LanguageHandshakeRequest, context: Any) -> Any:
        # Used when the engine attaches to a running host instead of launching it with its address.
        self.engine_address = request.engine_address
        start_health_check(request.engine_address, self.stop)
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request: empty_pb2.Empty, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request: Any, context: Any) -> Any:
        # The only plugin our programs use is the dynamic-provider host, which the engine finds on PATH.
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:
        return language_pb2.GetRequiredPackagesResponse()

    def InstallDependencies(self, request: Any, context: Any) -> Iterator[Any]:
        # Dependencies live in the project's venv, managed outside Pulumi: nothing to install, nothing to say.
        return iter(())

    def RuntimeOptionsPrompts(self, request: Any, context: Any) -> Any:
        return language_pb2.RuntimeOptionsResponse()

    def Template(self, request: Any, context: Any) -> Any:
        return language_pb2.TemplateResponse()

    def About(self, request: language_pb2.AboutRequest, context: Any) -> Any:
        python = self._python_or_abort(request.info, context)
        probe = "import sys, platform; print(sys.executable); print(platform.python_version())"
        out = self._capture(python, ["-c", probe])
        executable, version = [*out.splitlines(), "", ""][:2] if out else (python.executable, "")
        pip_version = self._capture(python, ["-m", "pip", "--version"]).split(" ")[1:2]
        return language_pb2.AboutResponse(
            executable=executable,
            version=version,
            metadata={"toolchain": "pip", "toolchainVersion": "".join(pip_version), "typechecker": "none"},
        )

    def GetProgramDependencies(self, request: language_pb2.GetProgramDependenciesRequest, context: Any) -> Any:
        python = self._python_or_abort(request.info, context)
        args = ["-m", "pip", "list", "--format", "json"]
        if not request.transitiveDependencies:
            args.append("--not-required")
        try:
            packages = json.loads(self._capture(python, args) or "[]")
        except json.JSONDecodeError:
            packages = []  # no pip in this interpreter: report nothing rather than fail `pulumi about`
        deps = [language_pb2.DependencyInfo(name=p["name"], version=p["version"]) for p in packages]
        return language_pb2.GetProgramDependenciesResponse(dependencies=deps)

    def Run(self, request: language_pb2.RunRequest, context: Any) -> language_pb2.RunResponse:
        if request.attach_debugger:
            return language_pb2.RunResponse(error="the bundled Python language host cannot attach a debugger")
        if not self.engine_address:
            abort(context, grpc.StatusCode.FAILED_PRECONDITION, "Handshake must be called before Run")
        python = self._python_or_abort(request.info, context)
        env = dict(python.env)
        if request.config:
            env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        args = run_args(request, self.executor, self.engine_address, self.tracing)
        try:
            # stdout/stderr are inherited: the engine reads ours and shows them as the program's output.
            # Own session: the engine's SIGINT to our process group must not reach the program (see the top).
            child = subprocess.Popen(
                [python.executable, *args], env=env, stdin=subprocess.DEVNULL, start_new_session=True
            )
        except OSError as err:
            return language_pb2.RunResponse(error=f"problem executing program (could not run language executor): {err}")
        with self._lock:
            self._children.add(child)
        # If the engine goes away mid-run (request cancelled), stop the program too.
        context.add_callback(lambda: self._stop(child))
        try:
            code = child.wait()
        finally:
            with self._lock:
                self._children.discard(child)
                cancelled = child in self._cancelled
                self._cancelled.discard(child)
        if code == 0:
            return language_pb2.RunResponse()
        if code == EXIT_USER_ACTIONABLE or cancelled:
            # Stopped on the engine's request: the engine reports why; our exit status would only add noise.
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=exit_message(code))

    def Cancel(self, request: empty_pb2.Empty, context: Any) -> empty_pb2.Empty:
        # The engine calls this on Ctrl-C, after a resource failed, and when it is done with us: stop any program.
        with self._lock:
            children = list(self._children)
        for child in children:
            self._stop(child)
        return empty_pb2.Empty()

    def _stop(self, child: subprocess.Popen[bytes]) -> None:
        with self._lock:
            if child.poll() is not None:
                return
            self._cancelled.add(child)
        terminate(child)

    # Program generation and packing are not needed to deploy; say so cleanly instead
    # of letting the generated base class log a traceback for each call.
    def _unimplemented(self, name: str, context: Any) -> NoReturn:
        abort(context, grpc.StatusCode.UNIMPLEMENTED, f"{name} is not supported by the bundled Python language host")

    def RunPlugin(self, request: language_pb2.RunPluginRequest, context: Any) -> Iterator[Any]:
        """Run a plugin written in Python (a directory with PulumiPlugin.yaml, ``runtime: python``), as the real
        host does: ``python -u <program directory> <args>`` in the engine's environment, its output streamed
        back (the engine reads the plugin's port from the first stdout line), then its exit code."""
        if request.attach_debugger:
            abort(context, grpc.StatusCode.UNIMPLEMENTED, "the bundled Python language host cannot attach a debugger")
        python = self._python_or_abort(request.info, context)
        env = plugin_env(request, python)
        directory = request.info.program_directory or request.info.root_directory or request.program
        target = os.path.join(directory, request.info.entry_point or ".")
        try:
            # Own session, as a program: the engine stops a plugin by ending this call, and we stop the plugin.
            child = subprocess.Popen(
                [python.executable, "-u", target, *request.args],
                cwd=request.pwd or directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as err:
            abort(context, grpc.StatusCode.FAILED_PRECONDITION, f"could not run plugin {target!r}: {err}")
        with self._lock:
            self._children.add(child)
        context.add_callback(lambda: self._stop(child))
        try:
            yield from stream_plugin(child)
        finally:
            with self._lock:
                self._children.discard(child)
                self._cancelled.discard(child)

    def GenerateProgram(self, request: Any, context: Any) -> Any:
        self._unimplemented("GenerateProgram", context)

    def GenerateProject(self, request: Any, context: Any) -> Any:
        self._unimplemented("GenerateProject", context)

    def GeneratePackage(self, request: language_pb2.GeneratePackageRequest, context: Any) -> Any:
        """A package's Python SDK (``pulumi package gen-sdk --language python``, ``pulumi package add``), made by
        the pinned release's own Python code generator, which this repository builds from sdk/gen (Go)."""
        go = shutil.which("go")
        if go is None or not os.path.isfile(os.path.join(SDK_GENERATOR, "main.go")):
            abort(
                context,
                grpc.StatusCode.UNIMPLEMENTED,
                f"the bundled Python language host generates SDKs with {SDK_GENERATOR} and Go, and "
                + ("Go is not on PATH" if go is None else "that generator is missing"),
            )
        with tempfile.TemporaryDirectory(prefix="pulumi-python-gen-") as tmp:
            schema_file = os.path.join(tmp, "schema.json")
            with open(schema_file, "w", encoding="utf-8") as out:
                out.write(request.schema)
            done = subprocess.run(
                [go, "run", "-mod=readonly", ".", schema_file, request.directory],
                cwd=SDK_GENERATOR,
                capture_output=True,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            abort(context, grpc.StatusCode.UNKNOWN, f"generating the Python SDK failed: {done.stderr or done.stdout}")
        for name, data in request.extra_files.items():  # overlays, written over what was generated
            path = os.path.join(request.directory, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as extra:
                extra.write(data)
        return language_pb2.GeneratePackageResponse()

    def Link(self, request: language_pb2.LinkRequest, context: Any) -> Any:
        # We never install (see the top): say where each SDK is and how a program reaches it.
        lines = []
        for dependency in request.packages:
            lines.append(
                f"The Python SDK of {dependency.package.name or 'the package'} is in {dependency.path}: install it "
                f"into the project's interpreter (pip install -e {dependency.path}) or put it on PYTHONPATH."
            )
        return language_pb2.LinkResponse(import_instructions="\n".join(lines))

    def Pack(self, request: Any, context: Any) -> Any:
        self._unimplemented("Pack", context)

    def _python_or_abort(self, info: language_pb2.ProgramInfo, context: Any) -> Python:
        try:
            return resolve_python(info)
        except HostError as err:
            abort(context, grpc.StatusCode.FAILED_PRECONDITION, str(err))

    @staticmethod
    def _capture(python: Python, args: list[str]) -> str:
        """stdout of a short helper command, or "" if it cannot run (only used for informational RPCs)."""
        try:
            done = subprocess.run(
                [python.executable, *args], env=python.env, capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""


def plugin_env(request: language_pb2.RunPluginRequest, python: Python) -> dict[str, str]:
    """The engine's environment for the plugin (``KEY=value`` lines; ours if it sent none), with the
    virtualenv of PulumiPlugin.yaml's options on top when it names one."""
    env = dict(line.split("=", 1) for line in request.env if "=" in line) if request.env else dict(python.env)
    if "VIRTUAL_ENV" in python.env and python.env.get("VIRTUAL_ENV") != os.environ.get("VIRTUAL_ENV"):
        env.pop("PYTHONHOME", None)
        env["VIRTUAL_ENV"] = python.env["VIRTUAL_ENV"]
        env["PATH"] = python.env["PATH"]
    return env


def stream_plugin(child: subprocess.Popen[bytes]) -> Iterator[language_pb2.RunPluginResponse]:
    """The child's stdout and stderr as they come (chunks, unbuffered), then its exit code."""
    chunks: queue.Queue[tuple[str, bytes]] = queue.Queue()

    def pump(name: str, stream: Any) -> None:
        with stream:
            fd = stream.fileno()
            while data := os.read(fd, 65536):
                chunks.put((name, data))
        chunks.put((name, b""))  # end of this stream

    for name, stream in (("stdout", child.stdout), ("stderr", child.stderr)):
        threading.Thread(target=pump, args=(name, stream), name=f"plugin-{name}", daemon=True).start()
    open_streams = 2
    while open_streams:
        name, data = chunks.get()
        if not data:
            open_streams -= 1
            continue
        yield (
            language_pb2.RunPluginResponse(stdout=data)
            if name == "stdout"
            else language_pb2.RunPluginResponse(stderr=data)
        )
    code = child.wait()
    yield language_pb2.RunPluginResponse(exitcode=code if code >= 0 else 128 - code)


def terminate(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a Python program dies without a traceback); SIGKILL if it is still there after a grace period.

    Sent to the program's process group (it leads its own session), so what the program started stops too, as
    it did when the engine's signal to our group reached it.
    """
    if child.poll() is not None:
        return
    signal_group(child, signal.SIGTERM)

    def kill_later() -> None:
        try:
            child.wait(KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            signal_group(child, signal.SIGKILL)

    threading.Thread(target=kill_later, daemon=True).start()


def signal_group(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(child.pid, sig)  # the program's pid is its group id (start_new_session)
    except ProcessLookupError:
        pass  # already gone
    except OSError:
        child.send_signal(sig)


_health_started: set[str] = set()


def start_health_check(engine_address: str, stop: threading.Event) -> None:
    """Exit when the engine is gone, so a crashed CLI does not leave us (and a program) running."""
    if not engine_address or engine_address in _health_started:
        return
    _health_started.add(engine_address)
    channel = grpc.insecure_channel(engine_address)
    # The engine serves grpc.health.v1; an empty HealthCheckRequest serialises to b"", so no stubs are needed.
    check = channel.unary_unary("/grpc.health.v1.Health/Check")

    def loop() -> None:
        while not stop.wait(HEALTH_INTERVAL_S):
            try:
                check(b"", timeout=HEALTH_INTERVAL_S)
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.UNIMPLEMENTED:  # unimplemented still proves it is alive
                    stop.set()

    threading.Thread(target=loop, name="engine-health", daemon=True).start()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pulumi-language-python", description=__doc__)
    # The engine's Go flag parser accepts one or two dashes; accept both for the flags it may pass.
    parser.add_argument("-tracing", "--tracing", default="", help="Zipkin-compatible tracing endpoint")
    parser.add_argument("-use-executor", "--use-executor", default="", help="path of pulumi-language-python-exec")
    parser.add_argument("-version", "--version", action="store_true", help="print the plugin version and exit")
    parser.add_argument("engine_address", nargs="?", default="", help="the engine's gRPC address")
    # Tolerate flags newer engines may add (logging/verbosity flags such as -v=9 or --logtostderr).
    args, _unknown = parser.parse_known_args(argv)
    return args


def find_executor(given: str) -> str:
    if given:
        return given
    beside = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), EXECUTOR_NAME)
    if os.path.isfile(beside):
        return beside
    found = shutil.which(EXECUTOR_NAME)
    if found is None:
        sys.exit(f"missing executor {EXECUTOR_NAME}: pass --use-executor or put it on PATH")
    return found


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.version:
        print(VERSION)
        return 0
    stop = threading.Event()
    # The engine stops plugins with SIGINT/SIGTERM: shut down the server and let running programs be interrupted.
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    host = LanguageHost(find_executor(args.use_executor), args.engine_address, args.tracing, stop)
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=options)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)  # the launch handshake: the engine reads exactly this line
    # Not one blocking wait: the kernel may hand the engine's SIGINT to another thread (gRPC's, say), and Python
    # runs its handler only when the main thread next executes bytecode. A main thread asleep in stop.wait()
    # would never do so: the engine would wait its 5 s grace and kill us, once in about 30 commands.
    while not stop.wait(SIGNAL_POLL_S):
        pass
    host.Cancel(empty_pb2.Empty(), None)
    server.stop(grace=1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
