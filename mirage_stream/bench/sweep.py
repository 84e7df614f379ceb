"""Sweeps: a grid of independent points run on a process pool here or on Ray, cached by a hash of
each point's config so that an interrupted sweep resumes where it stopped.

A point is a kind and its parameters (plain JSON values: a seed among them when it draws random
numbers); its result is a JSON object that depends on nothing else, so the same grid gives the
same numbers on either executor. ``--executor ray`` connects to a cluster at ``--address`` or
starts one on this machine (``pip install -e ".[cluster]"``).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mirage_stream.errors import InputError, MirageError

log = logging.getLogger(__name__)

EXECUTORS = ("local", "ray")
# Bump when a point's computation changes, so old cached results are not reused.
CACHE_VERSION = 1


@dataclass(frozen=True)
class Point:
    """One independent piece of a sweep."""

    kind: str
    params: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, kind: str, **params: Any) -> Point:
        return cls(kind, tuple(sorted(params.items())))

    def get(self, name: str) -> Any:
        return dict(self.params)[name]

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **dict(self.params)}

    def key(self) -> str:
        text = json.dumps({"v": CACHE_VERSION, **self.as_json()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


Runner = Callable[[Point], dict[str, Any]]


@dataclass(frozen=True)
class SweepConfig:
    executor: str = "local"
    address: str | None = None  # a Ray cluster; None: a local one
    workers: int = 2
    cache: Path | None = None  # where results are kept between runs
    progress: bool = True
    stall_s: float = 900.0  # no point finishing this long means one hangs: stop, say which

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise InputError(f"--executor must be one of {', '.join(EXECUTORS)}")
        if self.address is not None and self.executor != "ray":
            raise InputError("--address needs --executor ray")
        if not 1 <= self.workers <= 256:
            raise InputError(f"--workers must be in [1, 256], got {self.workers}")


class _Cache:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def get(self, point: Point) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        path = self.folder / f"{point.key()}.json"
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return stored.get("result") if stored.get("point") == point.as_json() else None

    def put(self, point: Point, result: dict[str, Any]) -> None:
        if self.folder is None:
            return
        path = self.folder / f"{point.key()}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"point": point.as_json(), "result": result}))
        temporary.replace(path)  # a sweep killed mid-write leaves no half file


def run_points(
    points: Sequence[Point], runner: Runner, config: SweepConfig
) -> dict[Point, dict[str, Any]]:
    """Every point's result: from the cache where it is there, else computed."""
    cache = _Cache(config.cache)
    results: dict[Point, dict[str, Any]] = {}
    todo: list[Point] = []
    for point in dict.fromkeys(points):  # each point once, in order
        cached = cache.get(point)
        if cached is not None:
            results[point] = cached
        else:
            todo.append(point)
    if todo:
        run = _run_ray if config.executor == "ray" else _run_local
        bar = _progress(len(points), len(results), config.progress)
        try:
            for point, result in run(todo, runner, config):
                cache.put(point, result)
                results[point] = result
                bar.update(1)
        finally:
            bar.close()
    return {point: results[point] for point in dict.fromkeys(points)}


def _progress(total: int, done: int, show: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="point", disable=not show, desc="sweep")


def _run_local(todo: list[Point], runner: Runner, config: SweepConfig) -> Any:
    """A process pool (spawned: no state leaks from this process into the workers)."""
    if config.workers == 1:
        for point in todo:
            yield point, runner(point)
        return
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(config.workers, mp_context=context)
    try:
        pending = {pool.submit(runner, point): point for point in todo}
        while pending:
            done, _ = concurrent.futures.wait(
                pending, timeout=config.stall_s, return_when=concurrent.futures.FIRST_COMPLETED
            )
            if not done:
                stuck = ", ".join(
                    str(p.as_json()) for p in list(pending.values())[: config.workers]
                )
                for process in context.active_children():
                    process.kill()
                raise MirageError(
                    f"no point finished in {config.stall_s:.0f} s (running: {stuck}); the "
                    "points done are cached: run the same command again to resume"
                )
            for future in done:
                yield pending.pop(future), future.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)  # the workers exit with the sweep, none is left behind


def _run_ray(todo: list[Point], runner: Runner, config: SweepConfig) -> Any:
    try:
        import ray
    except ImportError:
        raise InputError('--executor ray needs Ray: pip install -e ".[cluster]"') from None
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if config.address is None:
            options["num_cpus"] = config.workers
        # The workers run this package from the same checkout.
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        ray.init(address=config.address, **options)
    try:
        remote = ray.remote(runner)
        pending = {remote.remote(point): point for point in todo}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for reference in done:
                yield pending.pop(reference), ray.get(reference)
    finally:
        if started_here:
            ray.shutdown()
