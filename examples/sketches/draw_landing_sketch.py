"""Draw the demo's landing-page sketch: pencil-like wobbly boxes and hand-lettered words on paper.

Run it to regenerate ``landing.png`` (deterministic: seeded). The sketch is our own drawing, free to reuse.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

W, H = 1200, 1600
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
rng = random.Random(7)


def wobbly_line(draw: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float, width: int = 4) -> None:
    n = max(2, int(math.hypot(x1 - x0, y1 - y0) / 25))
    pts = []
    for i in range(n + 1):
        t = i / n
        pts.append((x0 + (x1 - x0) * t + rng.uniform(-1.8, 1.8), y0 + (y1 - y0) * t + rng.uniform(-1.8, 1.8)))
    draw.line(pts, fill=(40, 40, 48), width=width, joint="curve")


def box(draw: ImageDraw.ImageDraw, x: float, y: float, w: float, h: float) -> None:
    o = lambda: rng.uniform(-4, 4)  # noqa: E731 - corners overshoot like a quick pencil stroke
    wobbly_line(draw, x + o(), y + o(), x + w + o(), y + o())
    wobbly_line(draw, x + w + o(), y + o(), x + w + o(), y + h + o())
    wobbly_line(draw, x + w + o(), y + h + o(), x + o(), y + h + o())
    wobbly_line(draw, x + o(), y + h + o(), x + o(), y + o())


def words(img: Image.Image, x: float, y: float, text: str, size: int) -> None:
    font = ImageFont.truetype(FONT, size)
    layer = Image.new("L", (int(size * len(text) * 0.75) + 40, size * 2), 0)
    ImageDraw.Draw(layer).text((10, 5), text, font=font, fill=255)
    layer = layer.rotate(rng.uniform(-1.5, 1.5), resample=Image.BICUBIC, expand=False)
    img.paste((35, 35, 45), (int(x), int(y)), layer)


def main(out: Path = Path(__file__).with_name("landing.png")) -> None:
    img = Image.new("RGB", (W, H), (246, 243, 234))
    noise = Image.effect_noise((W, H), 12).filter(ImageFilter.GaussianBlur(1))
    img = Image.blend(img, Image.merge("RGB", (noise, noise, noise)).point(lambda v: 200 + v // 5), 0.25)
    draw = ImageDraw.Draw(img)
    # nav bar
    box(draw, 60, 50, 1080, 110)
    words(img, 90, 80, "Acme Trips", 44)
    for i, link in enumerate(("Home", "Pricing", "Contact")):
        words(img, 640 + i * 170, 88, link, 34)
        wobbly_line(draw, 650 + i * 170, 132, 650 + i * 170 + len(link) * 19, 132, 3)
    # hero: heading, paragraph, button, picture
    words(img, 80, 230, "Plan your trips faster", 64)
    words(img, 80, 340, "Book flights and hotels", 36)
    words(img, 80, 395, "in one simple place.", 36)
    box(draw, 90, 500, 300, 100)
    words(img, 125, 525, "Get started", 40)
    box(draw, 700, 330, 420, 300)
    wobbly_line(draw, 700, 330, 1120, 630, 3)
    wobbly_line(draw, 1120, 330, 700, 630, 3)
    # three feature cards
    for i, (title, line) in enumerate((("Fast", "Book in a minute"), ("Simple", "One clear page"),
                                       ("Cheap", "No hidden fees"))):
        x = 70 + i * 365
        box(draw, x, 760, 330, 330)
        words(img, x + 30, 790, title, 44)
        words(img, x + 30, 870, line, 30)
    # sign-up form
    words(img, 80, 1170, "Get our deals", 44)
    box(draw, 90, 1250, 560, 80)
    words(img, 110, 1270, "Your email", 32)
    box(draw, 700, 1250, 240, 80)
    words(img, 735, 1268, "Sign up", 36)
    # footer
    box(draw, 60, 1420, 1080, 120)
    words(img, 90, 1455, "Contact us", 36)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    img.save(out, optimize=True)


if __name__ == "__main__":
    main()
