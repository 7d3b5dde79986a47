"""Fake ComfyUI nodes in a process of their own, for benchmarks (real nodes are other machines).

Run by :mod:`bench.comfyui_pool`: ``python bench/fake_nodes.py COUNT SECONDS`` prints one JSON line
with the nodes' URLs, then answers one JSON line per command read from stdin:
``submissions`` (accepted jobs, all nodes), ``lose I`` (node I goes down, forgets its queue and
history as a restarted ComfyUI does; answers how many jobs it lost), ``up I``, ``stop``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.providers.fake_comfyui import FakeComfyUI


def main() -> None:
    count, seconds = int(sys.argv[1]), float(sys.argv[2])
    nodes = [FakeComfyUI(seconds_per_image=seconds, previews=False).start() for _ in range(count)]
    print(json.dumps([node.base_url for node in nodes]), flush=True)
    try:
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "submissions":
                answer: object = sum(node.submissions() for node in nodes)
            elif command == "lose":
                node = nodes[int(arg)]
                queue = node.queue_snapshot()
                node.down("refuse")
                node.restart()
                answer = len(queue["queue_running"]) + len(queue["queue_pending"])
            elif command == "up":
                nodes[int(arg)].up()
                answer = "ok"
            else:
                break
            print(json.dumps(answer), flush=True)
    finally:
        for node in nodes:
            node.stop()


if __name__ == "__main__":
    main()
