"""Generation tools: ``text_to_image`` (diffusers) and ``compose_video`` (an image slideshow).

diffusers, torch and imageio-ffmpeg are imported inside functions only; importing this package is cheap.
"""

__all__ = ["TextToImage", "ComposeVideo"]


def __getattr__(name: str) -> object:
    if name == "TextToImage":
        from tools.generation.diffusion import TextToImage

        return TextToImage
    if name == "ComposeVideo":
        from tools.generation.slideshow import ComposeVideo

        return ComposeVideo
    raise AttributeError(name)
