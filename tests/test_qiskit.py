"""Qiskit jobs with real qiskit-aer: watch() of AerJob and PrimitiveJob, QiskitBackend."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.primitives import StatevectorSampler
from qiskit.providers import JobStatus as QiskitStatus
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2, SamplerV2

from _jobs import FINAL, Recorder, wait_for_state
from jobwidgets import BaseJob, JobError, JobStatus, LocalBackend, registry
from jobwidgets.qiskit import QiskitBackend, QiskitJob, WatchedJob, to_status, watch


def bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def python_heavy() -> QuantumCircuit:
    """One qubit, 20,000 gates: Aer spends its time in Python (where threads take
    turns) turning the circuit into its own form, and little in the simulation."""
    circuit = QuantumCircuit(1)
    for step in range(20_000):
        circuit.rx(0.001 * step, 0)
    circuit.measure_all()
    return circuit


def too_big() -> QuantumCircuit:
    """40 qubits in a statevector: far more memory than there is, so Aer fails it."""
    circuit = QuantumCircuit(40)
    circuit.rx(0.3, range(40))
    circuit.measure_all()
    return circuit


def heavy(qubits: int = 23, depth: int = 20) -> QuantumCircuit:
    """Layers of rotations and CNOTs; 23 qubits take about 1 s on one core."""
    circuit = QuantumCircuit(qubits)
    rng = np.random.default_rng(7)
    for _ in range(depth):
        for qubit in range(qubits):
            circuit.rx(float(rng.random()), qubit)
        for qubit in range(0, qubits - 1, 2):
            circuit.cx(qubit, qubit + 1)
    circuit.measure_all()
    return circuit


@pytest.fixture(scope="module")
def sim() -> AerSimulator:
    simulator = AerSimulator()
    simulator.run(bell(), shots=1).result()  # warm up
    return simulator


@contextlib.contextmanager
def aer_queue_blocked(sim: AerSimulator) -> Iterator[threading.Event]:
    """Hold Aer's job executor (it runs one job at a time) until the event is set."""
    executor = sim.run(bell(), shots=1).executor()
    gate = threading.Event()
    started = threading.Event()

    def block() -> None:
        started.set()
        gate.wait(60)

    executor.submit(block)
    assert started.wait(10)
    try:
        yield gate
    finally:
        gate.set()


# ------------------------------------------------------------------------ watch()
def test_an_aer_job_goes_from_initializing_through_running_to_done(sim: AerSimulator) -> None:
    with aer_queue_blocked(sim) as gate:
        aer_job = sim.run(python_heavy(), shots=10)
        job = watch(aer_job)
        seen = Recorder()
        job.observe(seen, "state")
        assert job.status() is JobStatus.INITIALIZING  # Aer's word for a queued job
        gate.set()
        job.wait_for_final_state(timeout=60, wait=0.005)
    assert seen.values == [JobStatus.RUNNING, JobStatus.DONE]
    assert job.job_id() == aer_job.job_id()
    assert job.backend() is sim
    assert job.qiskit_job is aer_job
    assert sum(job.result().get_counts().values()) == 10


def test_a_queued_aer_job_cancelled(sim: AerSimulator) -> None:
    with aer_queue_blocked(sim):
        job = watch(sim.run(bell(), shots=10))
        assert job.cancel() is True
        assert job.status() is JobStatus.CANCELLED
        assert job.state is JobStatus.CANCELLED  # pushed by the future, no query needed
    with pytest.raises(JobError, match="cancelled"):
        job.result(timeout=5)
    assert job.cancel() is True


def test_a_running_aer_job_cannot_be_cancelled(sim: AerSimulator) -> None:
    with aer_queue_blocked(sim) as gate:
        job = watch(sim.run(python_heavy(), shots=10))
        gate.set()
        assert wait_for_state_by_query(job, JobStatus.RUNNING)
        assert job.cancel() is False
    assert job.result(timeout=60).success


def wait_for_state_by_query(job: BaseJob, status: JobStatus, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if job.status() is status:
            return True
        time.sleep(0.002)
    return False


def test_a_failing_circuit_is_an_error_with_its_message() -> None:
    aer_job = AerSimulator(method="statevector").run(too_big(), shots=1)
    job = watch(aer_job)
    job.wait_for_final_state(timeout=60, wait=0.1)
    assert aer_job.status() is QiskitStatus.DONE  # what Qiskit itself says
    assert job.status() is JobStatus.ERROR
    assert job.error is not None and "Insufficient memory" in job.error
    with pytest.raises(JobError, match="Insufficient memory"):
        job.result()


class _FinalToo:
    wants_final_status = True

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


def test_wait_for_final_state_calls_back_on_a_wrapped_job(sim: AerSimulator) -> None:
    plain: list[tuple[Any, ...]] = []
    marked = _FinalToo()
    job = watch(sim.run(bell(), shots=10))
    job.wait_for_final_state(timeout=60, wait=0.05, callback=lambda *args: plain.append(args))
    job.wait_for_final_state(timeout=60, wait=0.05, callback=marked)
    assert all(status not in FINAL for _, status, _ in plain)  # as qiskit's own loop
    assert marked.calls == [(job.job_id(), JobStatus.DONE, job)]  # opted in: the final one
    assert all(job_id == job.job_id() and who is job for job_id, _, who in plain)


@pytest.mark.parametrize(
    "primitive",
    [SamplerV2(), StatevectorSampler()],
    ids=["aer-sampler", "statevector-sampler"],
)
def test_a_sampler_job(primitive: Any) -> None:
    job = watch(primitive.run([bell()], shots=100))
    assert job.result(timeout=60)[0].data.meas.num_shots == 100
    assert job.status() is JobStatus.DONE
    assert job.backend() is None
    assert "PrimitiveJob" in repr(job)


def test_an_estimator_job() -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    job = watch(EstimatorV2().run([(circuit, SparsePauliOp("ZZ"))]))
    seen = Recorder()
    job.observe(seen, "state")
    assert seen.wait_final(60)  # pushed by the job's future, with nothing polling it
    assert float(job.result()[0].data.evs) == pytest.approx(1.0)


def test_a_primitive_job_that_raises_is_an_error() -> None:
    sampler = SamplerV2(options={"backend_options": {"method": "statevector"}})
    job = watch(sampler.run([too_big()], shots=1))
    job.wait_for_final_state(timeout=60, wait=0.05)
    assert job.status() is JobStatus.ERROR
    assert job.error is not None and job.error.startswith("AerError:")
    assert "Insufficient memory" in job.error
    assert job.error_traceback is not None and "AerError" in job.error_traceback
    with pytest.raises(JobError, match="Insufficient memory") as raised:
        job.result()
    assert type(raised.value.__cause__).__name__ == "AerError"


@pytest.mark.parametrize("status", list(QiskitStatus), ids=lambda status: status.name)
def test_qiskit_statuses_map_one_to_one(status: QiskitStatus) -> None:
    assert to_status(status).name == status.name
    assert to_status(status).value == status.value
    assert to_status(status.name.lower()) is to_status(status)  # services that send names


def test_watch_says_what_it_needs() -> None:
    with pytest.raises(TypeError, match="watch\\(\\) needs a Qiskit job"):
        watch("job-1")
    with pytest.raises(ValueError, match="unknown Qiskit job status 'LOST'"):
        to_status("LOST")


def test_watching_twice_gives_one_job(sim: AerSimulator) -> None:
    aer_job = sim.run(bell(), shots=1)
    assert watch(aer_job) is watch(aer_job)
    assert watch(watch(aer_job)) is watch(aer_job)
    assert isinstance(watch(aer_job), WatchedJob)


# ----------------------------------------------------------------- QiskitBackend
def _observed(backend: QiskitBackend, *args: Any, **options: Any) -> tuple[Any, Recorder]:
    seen = Recorder()

    def attach(job: BaseJob) -> None:
        job.observe(seen, "state")

    unsubscribe = registry.subscribe(attach)
    try:
        job = backend.run(*args, **options)
    finally:
        unsubscribe()
    return job, seen


def test_backend_jobs_push_every_transition(sim: AerSimulator) -> None:
    with QiskitBackend(sim) as backend:
        job, seen = _observed(backend, bell(), shots=100)
        assert seen.wait_final(60)
        assert seen.values == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE]
        assert isinstance(job, QiskitJob)
        assert job.backend() is sim
        assert "aer_simulator" in repr(job)
        assert set(job.result().get_counts()) <= {"00", "11"}
        assert job.pushes_status


def test_backend_jobs_of_a_failing_circuit_end_in_error(sim: AerSimulator) -> None:
    with QiskitBackend(sim) as backend:
        job = backend.run(too_big(), method="statevector", shots=1)
        with pytest.raises(JobError, match="Insufficient memory"):
            job.result(timeout=60)
        assert job.status() is JobStatus.ERROR
        assert job.error.startswith("SimulationError: ERROR:")


def test_backend_bad_input(sim: AerSimulator) -> None:
    with pytest.raises(TypeError, match="needs a Qiskit backend with run"):
        QiskitBackend("aer_simulator")
    with pytest.raises(TypeError, match="isolate must be False, True"):
        QiskitBackend(sim, isolate="yes")
    with LocalBackend(1) as threads, pytest.raises(ValueError, match="kind='process'"):
        QiskitBackend(sim, isolate=threads)
    with QiskitBackend(sim) as backend, pytest.raises(TypeError, match="QuantumCircuit"):
        backend.run("OPENQASM 2.0;")


def test_the_missing_extra_is_named() -> None:
    script = (
        "import sys\n"
        "sys.modules['qiskit'] = None\n"
        "try:\n"
        "    import jobwidgets.qiskit\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'jobwidgets[qiskit]'" in done.stdout


class Ticker:
    """A thread that counts its 10 ms ticks, as a kernel's event loop would run."""

    def __init__(self) -> None:
        self.ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.ticks += 1

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _ticks_during(backend: QiskitBackend, circuit: QuantumCircuit) -> tuple[int, float]:
    with Ticker() as ticker:
        start = time.monotonic()
        backend.run(circuit, shots=1, max_parallel_threads=1).result(timeout=120)
        elapsed = time.monotonic() - start
    return ticker.ticks, elapsed


def test_isolation_keeps_the_process_live_during_a_simulation(sim: AerSimulator) -> None:
    circuit = heavy()
    with QiskitBackend(sim, isolate=True) as isolated:
        isolated.run(bell(), shots=1).result(timeout=120)  # start the worker process
        isolated_ticks, isolated_time = _ticks_during(isolated, circuit)
    with QiskitBackend(sim) as in_process:
        frozen_ticks, frozen_time = _ticks_during(in_process, circuit)
    assert isolated_time > 0.3 and frozen_time > 0.3, (isolated_time, frozen_time)
    # isolated: the ticker runs nearly all the time; in process, Aer holds the GIL
    assert isolated_ticks >= 0.5 * isolated_time / 0.01, (isolated_ticks, isolated_time)
    assert frozen_ticks <= 0.25 * frozen_time / 0.01, (frozen_ticks, frozen_time)


def test_cancelling_a_running_isolated_job_stops_its_worker(sim: AerSimulator) -> None:
    with QiskitBackend(sim, isolate=True) as backend:
        job = backend.run(heavy(24), shots=1, max_parallel_threads=1)
        assert wait_for_state(job, JobStatus.RUNNING, timeout=60)
        assert job.cancel() is True
        assert wait_for_state(job, JobStatus.CANCELLED, timeout=30)
        assert backend.run(bell(), shots=10).result(timeout=120).success


def test_isolation_on_a_dask_cluster(sim: AerSimulator) -> None:
    from jobwidgets.dask import DaskBackend

    with DaskBackend(n_workers=1, threads_per_worker=1) as cluster:
        backend = QiskitBackend(sim, isolate=cluster)
        job, seen = _observed(backend, bell(), shots=50)
        assert seen.wait_final(120)
        assert seen.values == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE]
        assert sum(job.result().get_counts().values()) == 50
        assert job.backend() is sim
        backend.close()
        assert not cluster.closed  # a cluster it was given stays up
