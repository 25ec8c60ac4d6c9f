"""
Make the ten JPEG images of the lab's www.someSchool.edu page.

The textbook's page (section 2.2.1) is "a base HTML file and 10 referenced
JPEG images": C{someDepartment/home.index} (also C{index.html}) and
C{pic01.jpg} ... C{pic10.jpg} here.  Each picture is 640x480, coloured
after its number, with the number drawn large, and weighs 20-60 KB, so a
page load is eleven objects of realistic size (what the textbook's
persistent versus non-persistent connection discussion counts).

The images are committed; this program is how they were made.  Rerun it
(from anywhere) after changing it, with Pillow installed, which netref
itself does not need::

    pip install pillow
    python netref/lab/www/make_images.py

It prints each file's size.  The pictures are the same on every run
(seeded), so rerunning it changes nothing unless Pillow's JPEG encoder
changed.
"""

from __future__ import annotations

import colorsys
import os
import random

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 480
HERE = os.path.dirname(os.path.abspath(__file__))
DEPARTMENT = os.path.join(HERE, "someschool.edu", "someDepartment")


def picture(number: int) -> Image.Image:
    """
    Picture C{number}: a gradient in its own hue, random discs (more for
    larger numbers: detail gives the JPEG its weight), and the number.
    """
    rng = random.Random(number)
    hue = (number - 1) / 10
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):
        r, g, b = colorsys.hsv_to_rgb(hue, 0.35 + 0.5 * y / HEIGHT, 0.95 - 0.4 * y / HEIGHT)
        draw.line([(0, y), (WIDTH, y)], fill=(int(r * 255), int(g * 255), int(b * 255)))
    for _ in range(20 + 3 * number):
        x, y = rng.randrange(WIDTH), rng.randrange(HEIGHT)
        radius = rng.randrange(8, 60)
        r, g, b = colorsys.hsv_to_rgb(
            (hue + rng.uniform(-0.15, 0.15)) % 1, 0.7, rng.uniform(0.4, 1)
        )
        draw.ellipse(
            [x - radius, y - radius, x + radius, y + radius],
            fill=(int(r * 255), int(g * 255), int(b * 255)),
            outline=(255, 255, 255),
        )
    big = ImageFont.load_default(size=240)
    small = ImageFont.load_default(size=24)
    text = str(number)
    box = draw.textbbox((0, 0), text, font=big)
    position = (
        (WIDTH - (box[2] - box[0])) // 2 - box[0],
        (HEIGHT - (box[3] - box[1])) // 2 - box[1],
    )
    draw.text(
        position, text, font=big, fill=(255, 255, 255), stroke_width=8, stroke_fill=(0, 0, 0)
    )
    draw.text(
        (16, HEIGHT - 40),
        f"www.someSchool.edu/someDepartment/pic{number:02d}.jpg",
        font=small,
        fill=(255, 255, 255),
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )
    return image


def main() -> None:
    os.makedirs(DEPARTMENT, exist_ok=True)
    for number in range(1, 11):
        path = os.path.join(DEPARTMENT, f"pic{number:02d}.jpg")
        picture(number).save(path, "JPEG", quality=75, optimize=True)
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
