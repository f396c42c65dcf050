"""Hostile PDFs built from raw bytes, for tests/test_pdf_hostile.py and bench/uploads.py.

Each builder returns the bytes of one file (the slow ones are cached). They write PDF syntax by hand because the attacks are exactly
the things a well-behaved writer refuses to produce: lying counts, loops, hidden scripts, bombs.
"""
import functools
import io
import zlib


from tests.test_rules import encrypted_pdf, small_pdf

A4 = b"/MediaBox [0 0 595 842]"


def classic(objects, *, trailer=b"", header=b"%PDF-1.7\n", prefix=b"", root=1):
    """A PDF with objects numbered from 1 and a classic cross-reference table."""
    out = io.BytesIO()
    out.write(prefix + header + b"%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, root, trailer, xref))
    return out.getvalue()


def stream(content, dictionary=b"", *, filters=()):
    """A stream object's body: `content` encoded through `filters` (FlateDecode only), outermost first."""
    data = content
    for _ in filters:
        data = zlib.compress(data, 9)
    names = b" ".join(b"/" + name for name in filters)
    filter_entry = b"/Filter [" + names + b"] " if filters else b""
    return b"<< /Length %d %s%s>>\nstream\n" % (len(data), filter_entry, dictionary) + data + b"\nendstream"


def compressed(direct, packed, *, header=b"%PDF-1.7\n", padding=0):
    """A PDF whose `packed` objects ({number: body}) sit in one object stream, found through an xref stream.

    `direct` ({number: body}) are written as ordinary objects; object 1 is the catalogue. `padding` spaces
    after the packed objects make the object stream inflate that much further.
    """
    out = io.BytesIO()
    out.write(header + b"%\xe2\xe3\xcf\xd3\n")
    size = max([*direct, *packed]) + 3
    objstm_number, xref_number = size - 2, size - 1
    offsets = {}
    for number, body in sorted(direct.items()):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    index, bodies, position = [], [], 0
    for number, body in sorted(packed.items()):
        index.append(b"%d %d" % (number, position))
        bodies.append(body)
        position += len(body) + 1
    head = b" ".join(index) + b"\n"
    packer = zlib.compressobj(9)
    spaces = b" " * (1 << 20)
    payload = packer.compress(head + b"\n".join(bodies) + b"\n") + b"".join(
        packer.compress(spaces[:min(1 << 20, padding - done)]) for done in range(0, padding, 1 << 20)) + packer.flush()
    offsets[objstm_number] = out.tell()
    out.write(b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
              % (objstm_number, len(packed), len(head), len(payload)) + payload + b"\nendstream\nendobj\n")
    offsets[xref_number] = out.tell()
    rows = [b"\x00" * 5 + b"\x00\x00\xff\xff"]
    slot = {number: i for i, number in enumerate(sorted(packed))}
    for number in range(1, size):
        if number in offsets:
            rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + bytes(4))
        elif number in packed:
            rows.append(b"\x02" + objstm_number.to_bytes(4, "big") + slot[number].to_bytes(4, "big"))
        else:
            rows.append(bytes(9))
    table = zlib.compress(b"".join(rows), 9)
    out.write(b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 4] /Root 1 0 R /Length %d /Filter /FlateDecode >>\n"
              b"stream\n" % (xref_number, size, len(table)) + table + b"\nendstream\nendobj\n")
    out.write(b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number])
    return out.getvalue()


def one_page(page_extra=b"", catalog_extra=b"", more=(), contents=None):
    """A one-page PDF: 1 catalogue, 2 pages, 3 page, 4 its content stream, then `more` objects from 5."""
    return classic([
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R " + A4 + b" /Contents 4 0 R " + page_extra + b">>",
        contents or stream(b"BT ET"),
        *more,
    ])


@functools.cache
def many_pages(count=100_000, declared=None):
    """`count` blank pages in one object stream (about 1 MB for 100,000); /Count says `declared` (default: true)."""
    first_page = 3
    kids = b" ".join(b"%d 0 R" % n for n in range(first_page, first_page + count))
    packed = {2: b"<< /Type /Pages " + A4 + b" /Count %d /Kids [" % (declared if declared is not None else count)
                 + kids + b"] >>"}
    for n in range(first_page, first_page + count):
        packed[n] = b"<< /Type /Page /Parent 2 0 R >>"
    return compressed({1: b"<< /Type /Catalog /Pages 2 0 R >>"}, packed)


def count_lie(declared):
    """One real page, but the page tree claims `declared` pages."""
    return classic([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count " + declared + b" >>",
        b"<< /Type /Page /Parent 2 0 R " + A4 + b" >>",
    ])


def deep_page_tree(depth=5_000):
    """Page-tree nodes nested `depth` deep before the one page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (level + 3))
    objects.append(b"<< /Type /Page /Parent %d 0 R " % (depth + 1) + A4 + b" >>")
    return classic(objects)


def page_tree_loop():
    """A page-tree node whose kid is its own parent."""
    return classic([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 2 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
    ])


def nested(opening, closing, depth=100_000):
    """A page resource nested `depth` arrays or dictionaries deep."""
    return one_page(page_extra=b"/Nest 5 0 R", more=[opening * depth + closing * depth])


def xref_loop():
    """Two incremental sections whose /Prev point at each other."""
    base = one_page()
    startxref = int(base.rsplit(b"startxref", 1)[1].split()[0])
    trailer_at = base.rindex(b"trailer")
    looped = base[:trailer_at] + base[trailer_at:].replace(b"/Root 1 0 R", b"/Root 1 0 R /Prev %d" % startxref)
    return looped


def encrypted():
    return encrypted_pdf()


@functools.cache
def deflate_bomb(layers=2, inflated=1 << 30):
    """A page whose content is `inflated` bytes of zeros deflated `layers` times (a few kB on disk)."""
    packer = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    data = b"".join(packer.compress(chunk) for _ in range(inflated >> 20)) + packer.flush()
    for _ in range(layers - 1):
        data = zlib.compress(data, 9)
    filters = b" ".join([b"/FlateDecode"] * layers)
    return one_page(contents=b"<< /Length %d /Filter [%s] >>\nstream\n" % (len(data), filters) + data + b"\nendstream")


@functools.cache
def objstm_bomb(inflated=512 << 20):
    """The page tree in an object stream that inflates to `inflated` bytes."""
    return compressed({1: b"<< /Type /Catalog /Pages 2 0 R >>"},
                      {2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                       3: b"<< /Type /Page /Parent 2 0 R " + A4 + b" >>"}, padding=inflated)


def pages_with_content(*contents):
    """One page per content stream, written plainly."""
    n = len(contents)
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n]
    for i, content in enumerate(contents):
        objects.append(b"<< /Type /Page /Parent 2 0 R " + A4 + b" /Contents %d 0 R >>" % (4 + 2 * i))
        objects.append(stream(content))
    return classic(objects)


def small():
    return small_pdf()


def with_pages(count):
    """`count` real blank pages, written plainly."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    return classic([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages " + A4 + b" /Kids [" + kids + b"] /Count %d >>" % count,
                    *[b"<< /Type /Page /Parent 2 0 R >>"] * count])


def nested_count_lie(count=501):
    """/Count 1 at the root, whose only kid holds `count` pages."""
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(count))
    return classic([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages " + A4 + b" /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Pages /Parent 2 0 R /Kids [" + kids + b"] /Count 1 >>",
                    *[b"<< /Type /Page /Parent 3 0 R >>"] * count])


@functools.cache
def many_objects(count=40_000):
    """One page and `count` small unreferenced objects in an object stream."""
    packed = {2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", 3: b"<< /Type /Page /Parent 2 0 R " + A4 + b" >>"}
    packed.update({n: b"<< /N %d >>" % n for n in range(4, 4 + count)})
    return compressed({1: b"<< /Type /Catalog /Pages 2 0 R >>"}, packed)


@functools.cache
def spread_bomb(streams=5, each=60 << 20):
    """`streams` page contents, each inflating to just under the per-stream limit."""
    packer = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    data = b"".join(packer.compress(chunk) for _ in range(each >> 20)) + packer.flush()
    body = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(streams))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % streams]
    for i in range(streams):
        objects += [b"<< /Type /Page /Parent 2 0 R " + A4 + b" /Contents %d 0 R >>" % (4 + 2 * i), body]
    return classic(objects)


def action(body):
    """A one-page PDF that runs the action `body` (object 5) when opened."""
    return one_page(catalog_extra=b"/OpenAction 5 0 R", more=[body])
