"""AUTOMATIC1111, Forge and SD.Next on the creator's own GPUs, through their ``/sdapi/v1`` web API.

One HTTP module (api: nodes, auth, errors), the renderer (adapter: txt2img and img2img, the recipe
from ``info``), its progress follower (progress), the upscaler (upscale: ``extra-single-image``).
Its entry in the provider table is spec; factory builds its adapters and its node probe for the
worker and ``studio nodes``.
"""
