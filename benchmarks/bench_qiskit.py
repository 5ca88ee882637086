"""Benchmark i: how live the kernel's process stays during a ~3 s Aer simulation.

A ticker thread wakes every 10 ms and counts its ticks while one simulation runs, first
in this process (``QiskitBackend(sim)``), then in a worker process
(``QiskitBackend(sim, isolate=True)``). qiskit-aer holds the GIL while it simulates, so
in process the ticker (like a kernel's event loop and its widgets) barely runs.

Run with ``python benchmarks/bench_qiskit.py`` (``--qubits N`` and ``--depth N`` set the
size, each qubit doubling the time; ``--rounds N``). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import statistics
import threading
import time

from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator

from jobwidgets.qiskit import QiskitBackend

TICK = 0.01


def layers(qubits: int, depth: int = 20) -> QuantumCircuit:
    circuit = QuantumCircuit(qubits)
    for _ in range(depth):
        for qubit in range(qubits):
            circuit.rx(0.1 * (qubit + 1), qubit)
        for qubit in range(0, qubits - 1, 2):
            circuit.cx(qubit, qubit + 1)
    circuit.measure_all()
    return circuit


def ticks_during(backend: QiskitBackend, circuit: QuantumCircuit) -> tuple[int, float, float]:
    """Ticks counted, seconds taken, and the longest gap between two ticks."""
    stamps: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(TICK):
            stamps.append(time.monotonic())

    ticker = threading.Thread(target=tick)
    start = time.monotonic()
    ticker.start()
    backend.run(circuit, shots=1).result(timeout=600)
    elapsed = time.monotonic() - start
    stop.set()
    ticker.join()
    edges = [start, *stamps, start + elapsed]
    gap = max(b - a for a, b in itertools.pairwise(edges))
    return len(stamps), elapsed, gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qubits", type=int, default=25)
    parser.add_argument("--depth", type=int, default=150, help="layers of gates")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sim = AerSimulator(method="statevector")
    circuit = layers(args.qubits, args.depth)
    small = layers(2, 1)
    results: dict[str, list[tuple[int, float, float]]] = {"in process": [], "isolated": []}
    with QiskitBackend(sim) as local, QiskitBackend(sim, isolate=True) as isolated:
        local.run(small, shots=1).result()
        isolated.run(small, shots=1).result(timeout=600)  # start the worker process
        for _ in range(args.rounds):
            results["in process"].append(ticks_during(local, circuit))
            results["isolated"].append(ticks_during(isolated, circuit))
    print(
        f"Python {platform.python_version()}, {args.qubits} qubits, depth {args.depth}, "
        f"{args.rounds} rounds\n"
    )
    print("| mode | simulation wall time | ticks (10 ms ticker) | of expected | longest gap |")
    print("|---|---|---|---|---|")
    for mode, rows in results.items():
        ticks = statistics.median(r[0] for r in rows)
        elapsed = statistics.median(r[1] for r in rows)
        gap = statistics.median(r[2] for r in rows)
        expected = elapsed / TICK
        print(
            f"| {mode} | {elapsed:.2f} s | {ticks:.0f} of about {expected:.0f} "
            f"| {ticks / expected:.0%} | {gap * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
