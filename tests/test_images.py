"""Sanity image URL builder: official examples, source forms, parameters, bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ssgen.render.images.url import (
    Asset,
    fit_rect,
    image_srcset,
    image_url,
    js_round,
    parse_asset_id,
)

BASE = "https://cdn.sanity.io/images/zp7mbokg/production/"
TALL = "Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000.jpg"
PROJECT = {"project_id": "zp7mbokg", "dataset": "production"}


def ref_image(ref: str, crop: Any = None, hotspot: Any = None) -> dict[str, Any]:
    image: dict[str, Any] = {"_type": "image", "asset": {"_ref": ref, "_type": "reference"}}
    if crop is not None:
        image["crop"] = crop
    if hotspot is not None:
        image["hotspot"] = hotspot
    return image


HOTSPOT = {"height": 0.3, "width": 0.3, "x": 0.3, "y": 0.3}
CROPPED = ref_image(
    "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg",
    {"bottom": 0.1, "left": 0.1, "right": 0.1, "top": 0.1},
    HOTSPOT,
)
UNCROPPED = ref_image(
    "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg",
    {"bottom": 0.0, "left": 0, "right": 0, "top": 0},
    HOTSPOT,
)
NO_CROP = ref_image("image-vK7bXJPEjVpL_C950gH1N73Zv14r7pYsbUdXl-4288x2848-jpg")
PLAIN = ref_image("image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg")


def test_official_example_crop_constrained_to_aspect() -> None:
    url = image_url(CROPPED, **PROJECT, width=100, height=80)
    assert url == BASE + TALL + "?rect=200,300,1600,1280&w=100&h=80"


def test_official_example_uncropped_square() -> None:
    url = image_url(NO_CROP, **PROJECT, width=80, height=80)
    assert url == (
        BASE + "vK7bXJPEjVpL_C950gH1N73Zv14r7pYsbUdXl-4288x2848.jpg?rect=720,0,2848,2848&w=80&h=80"
    )


@pytest.mark.parametrize(
    ("source", "options", "query"),
    [
        (UNCROPPED, {}, ""),
        (UNCROPPED, {"width": 100}, "?w=100"),
        (UNCROPPED, {"height": 100}, "?h=100"),
        (UNCROPPED, {"width": 30, "height": 100}, "?rect=150,0,900,3000&w=30&h=100"),
        (UNCROPPED, {"width": 100, "height": 30}, "?rect=0,600,2000,600&w=100&h=30"),
        (UNCROPPED, {"width": 200, "height": 300}, "?w=200&h=300"),
        (CROPPED, {}, "?rect=200,300,1600,2400"),
        (CROPPED, {"width": 30, "height": 100}, "?rect=240,300,720,2400&w=30&h=100"),
        (CROPPED, {"width": 320, "height": 240}, "?rect=200,300,1600,1200&w=320&h=240"),
        (
            CROPPED,
            {"rect": (10, 20, 30, 40), "width": 30, "height": 100},
            "?rect=10,20,30,40&w=30&h=100",
        ),
        (CROPPED, {"width": 100, "height": 80, "ignore_image_params": True}, "?w=100&h=80"),
        (CROPPED, {"width": 100, "height": 80, "crop": "center"}, "?w=100&h=80&crop=center"),
        (
            CROPPED,
            {"width": 100, "height": 80, "focal_point": (0.25, 1)},
            "?fp-x=0.25&fp-y=1&w=100&h=80",
        ),
        (PLAIN, {"height": 100}, "?h=100"),
        (PLAIN, {"auto": "format"}, "?auto=format"),
        (PLAIN, {"format": "webp", "quality": 75}, "?fm=webp&q=75"),
        (PLAIN, {"dpr": 1}, ""),
        (PLAIN, {"dpr": 3}, "?dpr=3"),
        (PLAIN, {"flip_horizontal": True, "flip_vertical": True}, "?flip=hv"),
        (PLAIN, {"pad": 50, "frame": 1}, "?pad=50&frame=1"),
        ({**PLAIN, "crop": None, "hotspot": None}, {}, ""),
    ],
)
def test_builder_cases(source: Any, options: dict[str, Any], query: str) -> None:
    assert image_url(source, **PROJECT, **options) == BASE + TALL + query


def test_all_parameters_in_official_order() -> None:
    url = image_url(
        PLAIN,
        **PROJECT,
        rect=(10, 20, 30, 40),
        bg="bf1942",
        focal_point=(0.1, 0.2),
        flip_horizontal=True,
        flip_vertical=True,
        width=100,
        height=80,
        format="png",
        download="a b.png",
        blur=50,
        sharpen=7,
        invert=True,
        orientation=90,
        min_height=150,
        max_height=300,
        min_width=100,
        max_width=200,
        quality=50,
        fit="crop",
        crop="center",
        saturation=-100,
        auto="format",
        dpr=2,
        pad=40,
        frame=1,
    )
    assert url.split("?")[1] == (
        "rect=10,20,30,40&bg=bf1942&fp-x=0.1&fp-y=0.2&flip=hv&w=100&h=80&fm=png&dl=a%20b.png"
        "&blur=50&sharp=7&invert=true&or=90&min-h=150&max-h=300&min-w=100&max-w=200&q=50"
        "&fit=crop&crop=center&sat=-100&auto=format&dpr=2&pad=40&frame=1"
    )


def test_rounding_edge_cases_from_the_official_suite() -> None:
    portrait = ref_image(
        "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2555x3833-jpg",
        {"bottom": 0, "left": 0, "right": 0, "top": 0},
        {
            "width": 0.7281480823863636,
            "height": 0.48536873219336263,
            "x": 0.3640740411931818,
            "y": 0.5858922039336789,
        },
    )
    landscape = ref_image(
        "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-3833x2555-jpg",
        {"bottom": 0, "left": 0, "right": 0, "top": 0},
        {
            "height": 0.7281480823863636,
            "width": 0.48536873219336263,
            "x": 0.5858922039336789,
            "y": 0.3640740411931818,
        },
    )
    assert image_url(portrait, **PROJECT, width=400, height=600).endswith(
        "2555x3833.jpg?w=400&h=600"
    )
    assert image_url(landscape, **PROJECT, width=600, height=400).endswith(
        "3833x2555.jpg?w=600&h=400"
    )


@pytest.mark.parametrize(
    "source",
    [
        "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg",
        {"_ref": "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg"},
        {"_id": "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg", "_type": "sanity.imageAsset"},
        {
            "url": "https://cdn.sanity.io/images/ppsg7ml5/test/Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000.jpg"
        },
        {
            "asset": {
                "url": "https://cdn.sanity.io/images/p/d/Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000.jpg?w=5"
            }
        },
        {"asset": {"_id": "image-Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000-jpg", "url": "x"}},
        "https://cdn.sanity.io/images/ppsg7ml5/test/Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000.jpg",
        {
            "_type": "image",
            "_sanityAsset": "image@file://./images/Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000.jpg",
        },
    ],
)
def test_source_forms(source: Any) -> None:
    assert image_url(source, **PROJECT, width=10) == BASE + TALL + "?w=10"


def test_export_asset_keeps_crop_and_hotspot() -> None:
    exported = {
        "_type": "image",
        "_sanityAsset": "image@file://./images/Tb9Ew8CXIwaY6R1kjMvI0uRR-2000x3000.jpg",
        "crop": CROPPED["crop"],
        "hotspot": HOTSPOT,
    }
    assert image_url(exported, **PROJECT, width=100, height=80).endswith(
        "?rect=200,300,1600,1280&w=100&h=80"
    )


def test_custom_cdn_and_vanity_name() -> None:
    url = image_url(PLAIN, **PROJECT, base_url="https://img.example.com/", vanity_name="my pic.jpg")
    assert url == "https://img.example.com/images/zp7mbokg/production/" + TALL + "/my%20pic.jpg"


@pytest.mark.parametrize(
    ("source", "options", "message"),
    [
        (None, {}, "no image to build a URL for"),
        ({}, {}, "no image to build a URL for"),
        ({"title": "x"}, {}, "not an image: expected an object with asset._ref"),
        (42, {}, "not int"),
        ("image-abc-jpg", {}, "malformed image asset id 'image-abc-jpg'"),
        ("file-abc-2000x3000-pdf", {}, "malformed image asset id"),
        ("image-abc-0x10-jpg", {}, "malformed image asset id"),
        ({"_sanityAsset": "file@file://./files/x.pdf"}, {}, "malformed _sanityAsset"),
        (PLAIN, {"fit": "cover"}, "invalid image fit 'cover': use one of clip, crop"),
        (PLAIN, {"crop": "middle"}, "invalid image crop 'middle'"),
        (PLAIN, {"auto": "webp"}, "invalid image auto 'webp'"),
        (PLAIN, {"format": "gif"}, "invalid image format 'gif'"),
        (PLAIN, {"orientation": 45}, "invalid image orientation 45"),
        (PLAIN, {"frame": 2}, "invalid image frame 2"),
        (PLAIN, {"width": 0}, "image width must be a positive number, got 0"),
        (PLAIN, {"height": "80"}, "image height must be a positive number, got '80'"),
        (PLAIN, {"quality": 101}, "image quality must be a number from 0 to 100"),
        (PLAIN, {"dpr": -1}, "image dpr must be a positive number"),
        (PLAIN, {"bg": "red"}, "image bg must be a hex colour"),
        (PLAIN, {"rect": (1, 2, 3)}, "image rect must be (left, top, width, height)"),
        (PLAIN, {"focal_point": (2, 0)}, "image focal_point must be (x, y) fractions"),
        ({**PLAIN, "crop": {"left": "a"}}, {"width": 5}, "image crop.left must be a number"),
        (PLAIN, {"project_id": ""}, "image_url needs a Sanity project id"),
        (PLAIN, {"dataset": "Prod/x"}, "image_url needs a Sanity dataset name"),
    ],
)
def test_bad_input_is_a_clear_value_error(
    source: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        image_url(source, **{**PROJECT, **options})


def test_parse_asset_id() -> None:
    assert parse_asset_id("image-abc-20x30-png") == Asset("abc", 20, 30, "png")


@pytest.mark.parametrize(
    ("value", "rounded"),
    [(0.5, 1), (1.5, 2), (2.5, 3), (-0.5, 0), (-2.5, -2), (2.4999, 2), (0.49999999999999994, 0)],
)
def test_js_round(value: float, rounded: int) -> None:
    assert js_round(value) == rounded


fraction = st.floats(0, 0.45)


@given(
    st.integers(1, 6000),
    st.integers(1, 6000),
    st.fixed_dictionaries(
        {"left": fraction, "top": fraction, "right": fraction, "bottom": fraction}
    ),
    st.fixed_dictionaries(
        {
            "x": st.floats(0, 1),
            "y": st.floats(0, 1),
            "width": st.floats(0, 1),
            "height": st.floats(0, 1),
        }
    ),
    st.integers(1, 4000),
    st.integers(1, 4000),
)
# A crop that leaves no row of a 1x2 image (JavaScript divides by zero and carries on).
@example(1, 2, {"left": 0.0, "top": 0.25, "right": 0.0, "bottom": 0.375},
         {"x": 0.0, "y": 0.0, "width": 0.0, "height": 0.0}, 1, 1)
def test_fitted_rect_stays_inside_the_crop(
    w: int, h: int, crop: dict[str, float], hotspot: dict[str, float], out_w: int, out_h: int
) -> None:
    asset = Asset("x", w, h, "jpg")
    cropped = fit_rect(asset, crop, hotspot, None, None)
    rect = fit_rect(asset, crop, hotspot, out_w, out_h)
    assert rect.left >= cropped.left - 1 and rect.top >= cropped.top - 1
    assert rect.left + rect.width <= cropped.left + cropped.width + 1
    assert rect.top + rect.height <= cropped.top + cropped.height + 1


def test_srcset_one_candidate_per_width() -> None:
    srcset = image_srcset(CROPPED, **PROJECT, widths=[100, 200], aspect=1.25, auto="format")
    assert srcset == (
        BASE
        + TALL
        + "?rect=200,300,1600,1280&w=100&h=80&auto=format 100w, "
        + BASE
        + TALL
        + "?rect=200,300,1600,1280&w=200&h=160&auto=format 200w"
    )
    assert image_srcset(PLAIN, **PROJECT, widths=[50]) == BASE + TALL + "?w=50 50w"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"widths": []}, "image srcset widths must be positive numbers"),
        ({"widths": [0]}, "image srcset widths must be positive numbers"),
        ({"widths": [10], "aspect": 0}, "image srcset aspect must be a positive number"),
        ({"widths": [10], "fit": "nope"}, "invalid image fit 'nope'"),
    ],
)
def test_srcset_bad_input(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        image_srcset(PLAIN, **PROJECT, **options)
