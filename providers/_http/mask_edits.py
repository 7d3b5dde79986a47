"""Checks a mask edit must pass before a vendor's Fill model is called (and paid for)."""

from __future__ import annotations

from providers._http.errors import check_image
from providers.base import BadImage, InvalidRequest, RenderRequest


def check_mask_edit(request: RenderRequest, provider: str, *, takes_mask: bool, model: str) -> None:
    """Refuse, before anything is sent, a mask edit the vendor would refuse.

    A request without a mask passes. Fill models edit pixel for pixel: they need the image the
    mask belongs to, at the mask's own size.

    Args:
        request: The render asked for.
        provider: The provider's name, for the error.
        takes_mask: Whether ``model`` takes a mask at all.
        model: The model (or endpoint) the request would go to.

    Raises:
        InvalidRequest: A mask without an init image, a model that takes no mask, a mask or image
            that does not decode, or a mask that is not the image's size.
    """
    if request.mask is None:
        return
    if request.init_image is None:
        raise InvalidRequest(
            f"{provider}: a mask edit needs the init image it edits",
            provider=provider,
            detail="mask without init_image",
        )
    if not takes_mask:
        raise InvalidRequest(
            f"{provider} model {model} takes no mask", provider=provider, detail=f"{model} takes no mask"
        )
    sizes: list[tuple[int, int]] = []
    for what, data in (("init_image", request.init_image), ("mask", request.mask)):
        try:
            _, width, height = check_image(data, provider)
        except BadImage:
            raise InvalidRequest(f"{what} is not a decodable image", provider=provider, detail=f"bad {what}") from None
        sizes.append((width, height))
    (iw, ih), (mw, mh) = sizes
    if (iw, ih) != (mw, mh):
        raise InvalidRequest(
            f"mask is {mw}x{mh} but the init image is {iw}x{ih}: a mask must be its image's size",
            provider=provider,
            detail="mask size differs from init_image",
        )
