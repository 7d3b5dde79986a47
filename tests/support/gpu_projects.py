"""A project rendered on ComfyUI nodes: an API-format workflow with placeholders, and shots using it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.projects import write_project

WORKFLOW = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": "$width", "height": "$height", "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "$prompt", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "$negative", "clip": ["4", 1]}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": "$seed",
            "steps": "$steps",
            "cfg": "$cfg",
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "studio", "images": ["8", 0]}},
}


def gpu_project(folder: Path, shots: int, chain: str = '["comfyui"]') -> Path:
    """A project rendering ``shots`` shots with the workflow above, on the chain given."""
    body = f"""
[project]
name = "GPU film"
seed = 3
chain = {chain}
[providers.comfyui]
workflow = "sdxl.json"
steps = 4
cfg = 6.5
[defaults]
size = "64x64"
upscale = 1
"""
    body += "".join(f'\n[[shots]]\nid = "s{i}"\nprompt = "a harbour at night, frame {i}"\n' for i in range(shots))
    folder = write_project(folder, body)
    (folder / "sdxl.json").write_text(json.dumps(WORKFLOW))
    return folder
