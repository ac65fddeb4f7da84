"""Signature and seal images (transparent PNGs, Appendix I II.7.d and II.8.a), decoded and
compressed once; each signature then writes the ready streams into its update."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko and pyhanko-certvalidator leave many constructors unannotated.)

from __future__ import annotations

import io
import weakref
import zlib
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter

from services.docs.signing.errors import SigningFailed

POINTS_PER_INCH = 72.0
DEFAULT_DPI = 300.0


@dataclass(eq=False)
class PdfImage:
    width_px: int
    height_px: int
    dpi: float
    rgb: bytes  # Flate-compressed 8-bit RGB samples
    alpha: bytes | None  # Flate-compressed 8-bit alpha, the soft mask
    _refs: weakref.WeakKeyDictionary[BasePdfFileWriter, generic.IndirectObject] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    @property
    def natural_size(self) -> tuple[float, float]:
        """Width and height in points at the image's own resolution: the seal is shown at its
        actual size (Appendix I II.8.a)."""
        scale = POINTS_PER_INCH / self.dpi
        return self.width_px * scale, self.height_px * scale

    def reference(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        ref = self._refs.get(writer)
        if ref is None:
            ref = self._add_to(writer)
            self._refs[writer] = ref
        return ref

    def _add_to(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        def stream(colour_space: str, data: bytes) -> generic.StreamObject:
            return generic.StreamObject(
                {
                    pdf_name("/Type"): pdf_name("/XObject"),
                    pdf_name("/Subtype"): pdf_name("/Image"),
                    pdf_name("/Width"): generic.NumberObject(self.width_px),
                    pdf_name("/Height"): generic.NumberObject(self.height_px),
                    pdf_name("/ColorSpace"): pdf_name(colour_space),
                    pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                    pdf_name("/Filter"): pdf_name("/FlateDecode"),
                },
                encoded_data=data,
            )

        image = stream("/DeviceRGB", self.rgb)
        if self.alpha is not None:
            image[pdf_name("/SMask")] = writer.add_object(stream("/DeviceGray", self.alpha))
        return writer.add_object(image)


def load_png(data: bytes) -> PdfImage:
    """Decode a PNG (or any image Pillow reads) into PDF image streams."""
    try:
        with Image.open(io.BytesIO(data)) as source:
            source.load()
            dpi_info = source.info.get("dpi")
            image = source.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise SigningFailed(
            "Ảnh chữ ký hoặc con dấu không đọc được.",
            "The signature or seal image cannot be read.",
        ) from exc
    dpi = float(dpi_info[0]) if dpi_info and dpi_info[0] else DEFAULT_DPI
    alpha = image.getchannel("A")
    opaque = alpha.getextrema() == (255, 255)
    return PdfImage(
        width_px=image.width,
        height_px=image.height,
        dpi=dpi,
        rgb=zlib.compress(image.convert("RGB").tobytes(), 6),
        alpha=None if opaque else zlib.compress(alpha.tobytes(), 6),
    )
