"""ComfyUI render nodes (the creator's own GPUs): the workflow template (workflow, graph), one node's
HTTP API (node), following a job on its websocket (follow) and the renderer (adapter).
Its entry in the provider table is spec; factory builds the renderer and the node probe for the worker.

Nothing is imported here: the project checker imports :mod:`providers.comfyui.workflow` (stdlib only)
without pulling in the HTTP client.
"""
