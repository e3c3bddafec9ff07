#!/usr/bin/env python3
"""Golden outputs of the reference libraries for zoa-ts's corruption tests.

Runs the library calls that hendrycks/robustness make_cifar_c.py / make_imagenet_c.py make (numpy, scipy,
skimage, cv2, PIL, ImageMagick through Wand), with the random inputs replaced by a deterministic integer stream
shared with test/data/synthetic.ts, and writes:
  test/data/fixtures/corruption-goldens-{cifar,imagenet}.bin   concatenated uint8 outputs (planar RGB)
  test/data/fixtures/corruption-goldens.json                    index: name -> {file, offset, shape, crop, sha256}
For 224x224 outputs only two 16x16 crops (top-left, centre) and the sha256 of the whole output are stored.

Debian: apt-get install python3-scipy python3-skimage python3-opencv python3-pil python3-numpy python3-wand imagemagick
Run from the repository root:  /usr/bin/python3 tools/reference/corruptions/make_goldens.py [--frost DIR]
"""
import base64
import ctypes
import hashlib
import json
import os
import sys
from io import BytesIO

import cv2
import numpy as np
import skimage
from PIL import Image
from scipy.ndimage import map_coordinates
from scipy.ndimage import zoom as scizoom
from skimage.filters import gaussian
from wand.api import library as wandlibrary
from wand.image import Image as WandImage

wandlibrary.MagickMotionBlurImage.argtypes = (ctypes.c_void_p, ctypes.c_double, ctypes.c_double, ctypes.c_double)

OUT = "test/data/fixtures"

# ---------------------------------------------------------------- shared deterministic inputs


def hash32(k):
    return (k * 2654435761 + 12345) % 4294967296


def unit_at(k):
    return hash32(k) / 4294967296


def synthetic(h, w):
    img = np.zeros((h, w, 3), np.uint8)
    for y in range(h):
        for x in range(w):
            idx = y * w + x
            r = (x * 255) // (w - 1)
            g = (y * 255) // (h - 1)
            b = hash32(idx) >> 24
            dx = 2 * x + 1 - w
            dy = 2 * y + 1 - h
            if 4 * (dx * dx + dy * dy) < w * w:
                r, g, b = 250, (x * y) % 256, 40
            if 8 * y >= h and 4 * y < h:
                v = 230 if ((x >> 1) + (y >> 1)) % 2 == 1 else 20
                r = g = b = v
            if 8 * x < w and 8 * y < h:
                r = g = b = 255
            if 8 * x >= 7 * w and 8 * y >= 7 * h:
                r = g = b = 0
            img[y, x] = (r, g, b)
    return img


class Stream:
    """The shared uniform stream: u_k = hash32(k) / 2^32, k = start, start+1, ..."""

    def __init__(self, start):
        self.k = start

    def next(self):
        v = unit_at(self.k)
        self.k += 1
        return v

    def array(self, shape):
        n = int(np.prod(shape))
        return np.array([self.next() for _ in range(n)], dtype=np.float64).reshape(shape)


# ---------------------------------------------------------------- library calls with injected randomness


def disk(radius, alias_blur):
    half = 8 if radius <= 8 else radius
    ksize = (3, 3) if radius <= 8 else (5, 5)
    L = np.arange(-half, half + 1)
    X, Y = np.meshgrid(L, L)
    k = np.array((X ** 2 + Y ** 2) <= radius ** 2, dtype=np.float32)
    k /= np.sum(k)
    return cv2.GaussianBlur(k, ksize=ksize, sigmaX=alias_blur)


def defocus(x, radius, alias):
    x = np.array(x) / 255.0
    kernel = disk(radius, alias)
    chans = np.array([cv2.filter2D(x[:, :, d], -1, kernel) for d in range(3)]).transpose((1, 2, 0))
    return np.uint8(np.clip(chans, 0, 1) * 255)


def clipped_zoom(img, z):
    h = img.shape[0]
    ch = int(np.ceil(h / z))
    top = (h - ch) // 2
    img = scizoom(img[top:top + ch, top:top + ch], (z, z, 1), order=1)
    t = (img.shape[0] - h) // 2
    return img[t:t + h, t:t + h]


def zoom_blur(x, zooms):
    x = (np.array(x) / 255.0).astype(np.float32)
    out = np.zeros_like(x)
    for z in zooms:
        out += clipped_zoom(x, z)
    x = (x + out) / (len(zooms) + 1)
    return np.uint8(np.clip(x, 0, 1) * 255)


def brightness(x, c):
    x = np.array(x) / 255.0
    x = skimage.color.rgb2hsv(x)
    x[:, :, 2] = np.clip(x[:, :, 2] + c, 0, 1)
    x = skimage.color.hsv2rgb(x)
    return np.uint8(np.clip(x, 0, 1) * 255)


def contrast(x, c):
    x = np.array(x) / 255.0
    m = np.mean(x, axis=(0, 1), keepdims=True)
    return np.uint8(np.clip((x - m) * c + m, 0, 1) * 255)


def pixelate(pil, c):
    w, h = pil.size
    small = pil.resize((int(w * c), int(h * c)), Image.BOX)
    return np.uint8(small.resize((w, h), Image.BOX))


def jpeg(pil, q):
    buf = BytesIO()
    pil.save(buf, "JPEG", quality=q)
    return np.uint8(Image.open(buf))


def magick_motion(png_bytes, radius, sigma, angle):
    with WandImage(blob=png_bytes) as im:
        wandlibrary.MagickMotionBlurImage(im.wand, radius, sigma, angle)
        return cv2.imdecode(np.frombuffer(im.make_blob(), np.uint8), cv2.IMREAD_UNCHANGED)


def motion(pil, radius, sigma, angle):
    buf = BytesIO()
    pil.save(buf, format="PNG")
    x = magick_motion(buf.getvalue(), radius, sigma, angle)
    if x.ndim == 3:
        return np.uint8(np.clip(x[..., [2, 1, 0]], 0, 255))
    return np.uint8(np.clip(np.array([x, x, x]).transpose((1, 2, 0)), 0, 255))


def glass(x, sigma, d, iters, stream):
    h, w = x.shape[:2]
    x = np.uint8(gaussian(np.array(x) / 255.0, sigma=sigma, channel_axis=-1) * 255)
    for _ in range(iters):
        for hh in range(h - d, d, -1):
            for ww in range(w - d, d, -1):
                dx = -d + hash32(stream.k) % (2 * d)
                dy = -d + hash32(stream.k + 1) % (2 * d)
                stream.k += 2
                hp, wp = hh + dy, ww + dx
                x[hh, ww], x[hp, wp] = x[hp, wp], x[hh, ww]  # the reference's aliasing "swap"
    return np.uint8(np.clip(gaussian(x / 255.0, sigma=sigma, channel_axis=-1), 0, 1) * 255)


def elastic(image, alpha, sigma, affine, stream):
    image = np.array(image, dtype=np.float32) / 255.0
    shape = image.shape
    size = shape[:2]
    center = np.float32(size) // 2
    square = min(size) // 3
    pts1 = np.float32([center + square, [center[0] + square, center[1] - square], center - square])
    jitter = (stream.array(pts1.shape) * 2 - 1) * affine
    pts2 = pts1 + jitter.astype(np.float32)
    M = cv2.getAffineTransform(pts1, pts2)
    image = cv2.warpAffine(image, M, size[::-1], borderMode=cv2.BORDER_REFLECT_101)
    nx = stream.array(size) * 2 - 1
    ny = stream.array(size) * 2 - 1
    dx = (gaussian(nx, sigma, mode="reflect", truncate=3) * alpha).astype(np.float32)
    dy = (gaussian(ny, sigma, mode="reflect", truncate=3) * alpha).astype(np.float32)
    dx, dy = dx[..., np.newaxis], dy[..., np.newaxis]
    x, y, z = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]), np.arange(shape[2]))
    ind = np.reshape(y + dy, (-1, 1)), np.reshape(x + dx, (-1, 1)), np.reshape(z, (-1, 1))
    out = map_coordinates(image, ind, order=1, mode="reflect").reshape(shape)
    return np.uint8(np.clip(out, 0, 1) * 255)


def plasma(mapsize, decay, stream):
    m = np.empty((mapsize, mapsize), dtype=np.float64)
    m[0, 0] = 0
    step = mapsize
    wib = [100.0]

    def wibbled(a):
        u = stream.array(a.shape)
        return a / 4 + wib[0] * (-wib[0] + (wib[0] - -wib[0]) * u)

    while step >= 2:
        c = m[0:mapsize:step, 0:mapsize:step]
        sq = c + np.roll(c, shift=-1, axis=0)
        sq += np.roll(sq, shift=-1, axis=1)
        m[step // 2:mapsize:step, step // 2:mapsize:step] = wibbled(sq)
        dr = m[step // 2:mapsize:step, step // 2:mapsize:step]
        ul = m[0:mapsize:step, 0:mapsize:step]
        lt = (dr + np.roll(dr, 1, axis=0)) + (ul + np.roll(ul, -1, axis=1))
        m[0:mapsize:step, step // 2:mapsize:step] = wibbled(lt)
        tt = (dr + np.roll(dr, 1, axis=1)) + (ul + np.roll(ul, -1, axis=0))
        m[step // 2:mapsize:step, 0:mapsize:step] = wibbled(tt)
        step //= 2
        wib[0] /= decay
    m -= m.min()
    return m / m.max()


def fog(x, amount, decay, stream):
    h, w = x.shape[:2]
    size = 2
    while size < max(h, w):
        size *= 2
    x = np.array(x) / 255.0
    mx = x.max()
    x += amount * plasma(size, decay, stream)[:h, :w][..., np.newaxis]
    return np.uint8(np.clip(x * mx / (mx + amount), 0, 1) * 255)


def snow(x, c, stream, angle):
    h, w = x.shape[:2]
    x = np.array(x, dtype=np.float32) / 255.0
    normals = (stream.array((h, w)) - 0.5) * 3.0
    layer = c[0] + c[1] * normals
    layer = clipped_zoom(layer[..., np.newaxis], c[2])
    layer[layer < c[3]] = 0
    layer = Image.fromarray((np.clip(layer.squeeze(), 0, 1) * 255).astype(np.uint8), mode="L")
    buf = BytesIO()
    layer.save(buf, format="PNG")
    layer = magick_motion(buf.getvalue(), c[4], c[5], angle) / 255.0
    layer = layer[..., np.newaxis]
    x = c[6] * x + (1 - c[6]) * np.maximum(x, cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).reshape(h, w, 1) * 1.5 + 0.5)
    return np.uint8(np.clip(x + layer + np.rot90(layer, k=2), 0, 1) * 255)


# ---------------------------------------------------------------- severity constants (from the reference scripts)

CIFAR = {
    "defocus": [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)],
    "zoom": [np.arange(1, 1.06, 0.01), np.arange(1, 1.11, 0.01), np.arange(1, 1.16, 0.01), np.arange(1, 1.21, 0.01), np.arange(1, 1.26, 0.01)],
    "brightness": [0.05, 0.1, 0.15, 0.2, 0.3],
    "contrast": [0.75, 0.5, 0.4, 0.3, 0.15],
    "pixelate": [0.95, 0.9, 0.85, 0.75, 0.65],
    "jpeg": [80, 65, 58, 50, 40],
    "motion": [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)],
    "glass": [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)],
    "elastic": [(32 * 0, 32 * 0, 32 * 0.08), (32 * 0.05, 32 * 0.2, 32 * 0.07), (32 * 0.08, 32 * 0.06, 32 * 0.06), (32 * 0.1, 32 * 0.04, 32 * 0.05), (32 * 0.1, 32 * 0.03, 32 * 0.03)],
    "fog": [(0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)],
    "snow": [(0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9), (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)],
}
IMAGENET = {
    "defocus": [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)],
    "zoom": [np.arange(1, 1.11, 0.01), np.arange(1, 1.16, 0.01), np.arange(1, 1.21, 0.02), np.arange(1, 1.26, 0.02), np.arange(1, 1.31, 0.03)],
    "brightness": [0.1, 0.2, 0.3, 0.4, 0.5],
    "contrast": [0.4, 0.3, 0.2, 0.1, 0.05],
    "pixelate": [0.6, 0.5, 0.4, 0.3, 0.25],
    "jpeg": [25, 18, 15, 10, 7],
    "motion": [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)],
    "glass": [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)],
    "elastic": [(244 * 2, 244 * 0.7, 244 * 0.1), (244 * 2, 244 * 0.08, 244 * 0.2), (244 * 0.05, 244 * 0.01, 244 * 0.02), (244 * 0.07, 244 * 0.01, 244 * 0.02), (244 * 0.12, 244 * 0.01, 244 * 0.02)],
    "fog": [(1.5, 2), (2, 2), (2.5, 1.7), (2.5, 1.5), (3, 1.4)],
    "snow": [(0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7), (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55)],
}
MOTION_ANGLES = [-37.3, 12.5, 45.0, 0.0, -44.9]
SNOW_ANGLES = [-100.3, -45.0, -135.0, -90.0, -61.7]


def goldens(tab, img):
    """name -> HWC uint8 output."""
    pil = Image.fromarray(img)
    out = {}
    for s in range(1, 6):
        i = s - 1
        out[f"defocus_blur/{s}"] = defocus(img, *tab["defocus"][i])
        out[f"zoom_blur/{s}"] = zoom_blur(img, tab["zoom"][i])
        out[f"brightness/{s}"] = brightness(img, tab["brightness"][i])
        out[f"contrast/{s}"] = contrast(img, tab["contrast"][i])
        out[f"pixelate/{s}"] = pixelate(pil, tab["pixelate"][i])
        out[f"jpeg_compression/{s}"] = jpeg(pil, tab["jpeg"][i])
        out[f"motion_blur/{s}"] = motion(pil, *tab["motion"][i], MOTION_ANGLES[i])
    for s in (1, 3, 5):
        i = s - 1
        out[f"glass_blur/{s}"] = glass(img, *tab["glass"][i], Stream(1000 * s))
        out[f"elastic_transform/{s}"] = elastic(img, *tab["elastic"][i], Stream(2000 * s))
        out[f"fog/{s}"] = fog(img, *tab["fog"][i], Stream(3000 * s))
        out[f"snow/{s}"] = snow(img, tab["snow"][i], Stream(4000 * s), SNOW_ANGLES[i])
    return out


def planar(hwc):
    return np.ascontiguousarray(hwc.transpose(2, 0, 1)).tobytes()


def main():
    frost_dir = sys.argv[sys.argv.index("--frost") + 1] if "--frost" in sys.argv else "../shared/data/frost"
    index = {"generator": "tools/reference/corruptions/make_goldens.py", "versions": {
        "numpy": np.__version__, "scipy": __import__("scipy").__version__, "skimage": skimage.__version__,
        "cv2": cv2.__version__, "PIL": Image.__version__, "ImageMagick": __import__("wand.version").version.MAGICK_VERSION,
    }, "arange": {}, "entries": {}}
    # numpy.arange values used by zoom_blur (checked against numpyArange).
    for variant, tab in (("cifar", CIFAR), ("imagenet", IMAGENET)):
        index["arange"][variant] = [[float(v) for v in a] for a in tab["zoom"]]
    for variant, tab, size, crop in (("cifar", CIFAR, 32, None), ("imagenet", IMAGENET, 224, 16)):
        img = synthetic(size, size)
        blob = bytearray()
        outputs = goldens(tab, img)
        if variant == "cifar":
            # JPEG of a 21x37 image: partial MCUs, edge replication, odd chroma sizes.
            odd = Image.fromarray(synthetic(21, 37))
            for q in (58, 7):
                outputs[f"odd21x37/jpeg_compression/q{q}"] = jpeg(odd, q)
        for name, arr in outputs.items():
            full = planar(arr)
            entry = {"file": f"corruption-goldens-{variant}.bin", "offset": len(blob), "shape": [3, arr.shape[0], arr.shape[1]], "sha256": hashlib.sha256(full).hexdigest()}
            if crop is None:
                blob += full
            else:
                c = size // 2 - crop // 2
                tl = np.ascontiguousarray(arr[:crop, :crop].transpose(2, 0, 1)).tobytes()
                ce = np.ascontiguousarray(arr[c:c + crop, c:c + crop].transpose(2, 0, 1)).tobytes()
                entry["crops"] = [{"top": 0, "left": 0, "size": crop}, {"top": c, "left": c, "size": crop}]
                blob += tl + ce
            index["entries"][f"{variant}/{name}"] = entry
        with open(os.path.join(OUT, f"corruption-goldens-{variant}.bin"), "wb") as f:
            f.write(bytes(blob))
    # Frost textures after cv2.imread + cv2.resize(fx=fy=0.2): sha256 and the per-channel mean of the centre 16x16
    # crop (only summaries: no texture pixels are committed).
    if os.path.isdir(frost_dir):
        frost = {}
        for name in ["frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg"]:
            t = cv2.imread(os.path.join(frost_dir, name))
            small = cv2.resize(t, (0, 0), fx=0.2, fy=0.2)[..., [2, 1, 0]]
            h, w = small.shape[:2]
            c = np.ascontiguousarray(small[h // 2 - 8:h // 2 + 8, w // 2 - 8:w // 2 + 8].transpose(2, 0, 1))
            full = np.ascontiguousarray(t[..., [2, 1, 0]].transpose(2, 0, 1))
            frost[name] = {"shape": [3, h, w], "sha256": hashlib.sha256(planar(small)).hexdigest(), "centre16Mean": [round(float(v), 4) for v in c.reshape(3, -1).mean(axis=1)],
                           "full_sha256": hashlib.sha256(full.tobytes()).hexdigest()}
        index["frost"] = frost
    with open(os.path.join(OUT, "corruption-goldens.json"), "w") as f:
        json.dump(index, f, indent=0, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
