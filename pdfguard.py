"""PDF checks (R10) that a hostile file cannot turn against the site.

`inspect` reads one file with pypdf and returns the `rules.PdfFacts` that `rules.check_pdf` judges: the
page count first, taken from the page tree's own claims before any page is built, then scripts, automatic
actions, embedded files and compression bombs, then each page's size.

The site never runs it in its own process. `Guard.measure` hands all the files of one request to a worker
process with hard limits: its address space (MEMORY_LIMIT), its CPU time, and one wall-clock budget for the
request (REQUEST_BUDGET), after which the parent kills it. A user gets one check at a time and a server
process runs at most WORKERS at once; a request that cannot start within WAIT seconds gets `Busy`, and the
view asks the user to try again, keeping the form.

Workers come from the "forkserver" start method: a clean single-threaded process that has already imported
this module forks each worker, so a new worker costs a fork, not an interpreter start, and never inherits
the web server's threads and locks (forking a threaded server directly is unsafe). Workers are reused
between requests and replaced after any file that ran out of time or memory.
"""
from __future__ import annotations

import collections
import contextlib
import gc
import io
import logging
import math
import multiprocessing
import os
import re
import resource
import sys
import threading
import time
import zlib

from pypdf import PdfReader, PdfWriter, apply_configuration
from pypdf.errors import LimitReachedError, PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, NumberObject, StreamObject, read_object

import rules

REQUEST_BUDGET = 8.0
MEMORY_LIMIT = 256 * 1024 * 1024
WORKERS = 2
PER_USER = 1
# A check of ordinary files takes milliseconds, so a short wait rides out a burst. Each waiting request
# holds a server thread: with waitress's default of 4 threads, 2 checking and 1 waiting still leave one
# thread for everyone else.
WAIT = 1.0
QUEUE = 1
# The parent's deadline is the worker's own plus this, so a worker that stops itself in time is never killed.
GRACE = 1.0
# A worker retires after this many requests, so no slow leak in pypdf can grow without end.
JOBS_PER_WORKER = 200
# Workers yield the CPU to the web server's own threads.
NICENESS = 10

# A flate stream may inflate to this much (a scanned A4 page at 300 dpi in colour is about 26 MB); all of a
# file's streams together to four times that.
MAX_INFLATED_BYTES = 64 * 1024 * 1024
MAX_INFLATED_TOTAL = 4 * MAX_INFLATED_BYTES
# Objects in one file: a 500-page document needs a few thousand; resolving one object in an object stream
# makes pypdf parse the whole stream, so this bounds what reading any object can cost.
MAX_OBJECTS = 30_000
MAX_XREF_ENTRIES = 200_000
MAX_TREE_DEPTH = 100
# Real files nest dictionaries and arrays a dozen levels; how pypdf recovers from far deeper nesting
# depends on how deep the interpreter's stack already is, so such a file is refused outright.
MAX_NESTING = 100
# Python frames pypdf may use below `inspect`: ample for real files (a few hundred at most).
STACK_FRAMES = 1000
_CHUNK = 64 * 1024
_PYPDF_LIMITS = {"zlib_maximum_output_length": MAX_INFLATED_BYTES, "lzw_maximum_output_length": MAX_INFLATED_BYTES,
                 "run_length_maximum_output_length": MAX_INFLATED_BYTES, "page_tree_maximum_entries": MAX_OBJECTS}

# Keys and values that make a PDF run code, act on opening or carry other files; reported by these names.
_ACTIVE_KEYS = {"/JS": "/JavaScript", "/JavaScript": "/JavaScript", "/AA": "/AA", "/XFA": "/XFA",
                "/EF": "/EmbeddedFile", "/EmbeddedFiles": "/EmbeddedFile", "/RichMediaContent": "/RichMedia"}
_ACTIVE_VALUES = {"/JavaScript", "/Launch", "/ImportData", "/GoToE", "/Rendition", "/RichMediaExecute",
                  "/EmbeddedFile", "/FileAttachment", "/RichMedia", "/Screen"}
_TYPE_KEYS = {"/S", "/Type", "/Subtype"}
_FLATE = {"/FlateDecode", "/Fl"}
_COUNT = re.compile(rb"/Count\s+(\d+)")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")


class Busy(Exception):
    """No worker came free in time: the user should try again shortly."""


class _Stopped(Exception):
    """Measuring must stop: the time is up, or the file is too big to read further."""


class _Reading:
    """One file being read; keeps what it has found so far, so a reading stopped early still reports it."""

    def __init__(self, data, deadline):
        self.data, self.deadline = data, deadline
        self.declared_pages = self.pages = 0
        self.page_sizes, self.found = [], set()
        self.inflates_past_limit = False
        self.inflate_left = MAX_INFLATED_TOTAL

    def facts(self, **outcome):
        return rules.PdfFacts(declared_pages=self.declared_pages, pages=self.pages, page_sizes=tuple(self.page_sizes),
                              active_content=tuple(sorted(self.found)), inflates_past_limit=self.inflates_past_limit,
                              **outcome)

    def tick(self):
        if time.monotonic() > self.deadline:
            raise _Stopped

    def run(self):
        reader = PdfReader(io.BytesIO(self.data), xref_stream_maximum_entries=MAX_XREF_ENTRIES)
        if reader.is_encrypted:
            return self.facts(encrypted=True)
        catalog = _read_alone(reader, reader.trailer.raw_get("/Root"))
        # Parsing the root of a page tree with 100,000 kids costs as much as reading the rest of the file:
        # its own bytes say whether that is worth doing.
        self.declared_pages = _claimed_pages(reader, self.data, catalog.raw_get("/Pages"))
        if self.declared_pages > rules.MAX_PDF_PAGES:
            return self.facts()
        tree = _read_alone(reader, catalog.raw_get("/Pages"))
        count, kids = _read_alone(reader, tree.raw_get("/Count")), _read_alone(reader, tree.raw_get("/Kids"))
        # Every kid of the root holds at least one page; a file that says otherwise is lying anyway.
        self.declared_pages = max(int(count) if isinstance(count, NumberObject) else 0,
                                  len(kids) if isinstance(kids, ArrayObject) else 0)
        if self.declared_pages > rules.MAX_PDF_PAGES:
            return self.facts()
        if sum(map(len, reader.xref.values())) + len(reader.xref_objStm) > MAX_OBJECTS:
            raise _Stopped
        self.tick()
        for reference in _every_object(reader):
            self.tick()
            self.scan(reader.get_object(reference))
            if self.inflates_past_limit:
                return self.facts()
        self.pages = self.count_pages(catalog.raw_get("/Pages"))
        if self.pages > rules.MAX_PDF_PAGES or self.found or self.inflates_past_limit:
            return self.facts()
        # pypdf builds the page list its own way; whatever it finds is bounded too.
        self.pages = max(self.pages, len(reader.pages))
        if self.pages > rules.MAX_PDF_PAGES:
            return self.facts()
        for page in reader.pages:
            self.tick()
            writer = PdfWriter()
            writer.add_page(page)
            out = io.BytesIO()
            writer.write(out)
            self.page_sizes.append(out.tell())
        return self.facts()

    def scan(self, obj):
        """Note active content in one object (its references are objects of their own) and measure its stream."""
        stack = [(obj, 0)]
        while stack:
            item, depth = stack.pop()
            if depth > MAX_NESTING:
                raise PdfReadError("nested too deeply")
            if isinstance(item, DictionaryObject):
                for key, value in item.items():
                    if key in _ACTIVE_KEYS:
                        self.found.add(_ACTIVE_KEYS[key])
                    elif key in _TYPE_KEYS and isinstance(value, NameObject) and value in _ACTIVE_VALUES:
                        self.found.add(str(value))
                    elif key == "/OpenAction":
                        action = value.get_object()
                        # An array is a page to open at; any action other than going to a page acts on opening.
                        if isinstance(action, DictionaryObject) and action.get("/S") != "/GoTo":
                            self.found.add("/OpenAction")
                    if isinstance(value, (DictionaryObject, ArrayObject)):
                        stack.append((value, depth + 1))
            elif isinstance(item, ArrayObject):
                stack.extend((value, depth + 1) for value in item if isinstance(value, (DictionaryObject, ArrayObject)))
        if isinstance(obj, StreamObject):
            self.measure_inflation(obj)

    def measure_inflation(self, stream):
        filters = stream.get("/Filter")
        filters = [filters] if isinstance(filters, NameObject) else filters if isinstance(filters, ArrayObject) else []
        layers = 0
        while layers < len(filters) and filters[layers] in _FLATE:
            layers += 1
        if not layers:
            return
        # pypdf keeps a stream's bytes as read in `_data`; get_data() would inflate them all.
        limit = min(MAX_INFLATED_BYTES, self.inflate_left)
        size = _inflated_size(stream._data, min(layers, 16), limit)
        self.inflate_left -= size
        if size > limit:
            self.inflates_past_limit = True

    def count_pages(self, root):
        """Pages in the tree, walked without building them, stopping one past MAX_PDF_PAGES."""
        seen, count, stack = set(), 0, [(root, 0)]
        while stack:
            self.tick()
            node, depth = stack.pop()
            if isinstance(node, IndirectObject):
                if node.idnum in seen:
                    raise PdfReadError("page tree loop")
                seen.add(node.idnum)
                node = node.get_object()
            if not isinstance(node, DictionaryObject) or depth > MAX_TREE_DEPTH:
                raise PdfReadError("bad page tree")
            kids = node.get("/Kids")
            if node.get("/Type") == "/Pages" or (kids is not None and node.get("/Type") != "/Page"):
                if not isinstance(kids, ArrayObject):
                    raise PdfReadError("page tree node without kids")
                stack.extend((kid, depth + 1) for kid in reversed(kids))
            else:
                count += 1
                if count > rules.MAX_PDF_PAGES:
                    break
        return count


def inspect(data: bytes, time_budget: float = rules.PDF_TIME_BUDGET) -> rules.PdfFacts:
    """The facts R10 needs about one PDF, read within `time_budget` seconds; never raises on bad input."""
    reading = _Reading(data, time.monotonic() + time_budget)
    with apply_configuration(**_PYPDF_LIMITS), _stack_allowance(STACK_FRAMES):
        try:
            return reading.run()
        except (_Stopped, MemoryError):
            return reading.facts(complete=False)
        except LimitReachedError as error:
            reading.inflates_past_limit = reading.inflates_past_limit or "decompress" in str(error)
            return reading.facts(complete=False)
        except Exception:
            # pypdf raises many kinds of errors on broken input, RecursionError on deep nesting among
            # them; to the user they all mean the same thing.
            return reading.facts(readable=False)


@contextlib.contextmanager
def _stack_allowance(frames):
    """Let the code inside recurse `frames` deeper than here, however deep the caller already is.

    pypdf recovers from a RecursionError by keeping what it had parsed, so how a deeply nested file reads
    depends on where the limit strikes; a limit relative to here makes it strike at the same place in the
    worker and in tests. The limit is process-wide: the worker is single-threaded, and the site's own
    threads never read PDFs.
    """
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def _read_alone(reader, value):
    """`value`, resolved if it is a reference; an object in an object stream is parsed alone.

    pypdf parses every object of an object stream to read one of them: 100,000 pages packed in one
    stream cost seconds and hundreds of MB before the page count could even be read.
    """
    if not isinstance(value, IndirectObject):
        return value
    if value.idnum not in reader.xref_objStm:
        return value.get_object()
    text, start, _ = _source(reader, None, value)
    buffer = io.BytesIO(text)
    buffer.seek(start)
    return read_object(buffer, reader)


def _claimed_pages(reader, data, reference):
    """The pages the root of the page tree claims, read from its bytes: its /Count or its number of /Kids."""
    if not isinstance(reference, IndirectObject):
        return 0
    text, start, end = _source(reader, data, reference)
    source = text[start:end]
    count, kids = _COUNT.search(source), _KIDS.search(source)
    return max(int(count.group(1)) if count else 0, kids.group(1).count(b"R") if kids else 0)


def _source(reader, data, reference):
    """(bytes, start, end) of the object `reference`: in its object stream's inflated bytes, or in the file `data`."""
    located = reader.xref_objStm.get(reference.idnum)
    if located is None:
        start = reader.xref.get(reference.generation, {}).get(reference.idnum)
        if start is None or data is None:
            raise PdfReadError(f"object {reference.idnum} not found")
        end = data.find(b"endobj", start)
        return data, start, end if end >= 0 else len(data)
    container = reader.get_object(located[0])
    text = container.get_data()
    first = int(container["/First"])
    numbers = text[:first].split()
    for i in range(0, len(numbers) - 1, 2):
        if int(numbers[i]) == reference.idnum:
            end = first + int(numbers[i + 3]) if i + 3 < len(numbers) else len(text)
            return text, first + int(numbers[i + 1]), end
    raise PdfReadError(f"object {reference.idnum} missing from its object stream")


def _every_object(reader):
    """References to every object the cross-reference tables list, ordinary objects first."""
    for generation, numbers in reader.xref.items():
        for number in numbers:
            yield IndirectObject(number, generation, reader)
    for number in reader.xref_objStm:
        yield IndirectObject(number, 0, reader)


def _inflated_size(data, layers, limit):
    """How many bytes `data` inflates to through `layers` flate filters, counting no further than just past `limit`.

    Inflates chunk by chunk and keeps nothing, so measuring a bomb costs neither memory nor more than
    `limit` bytes of work.
    """
    decoders = [zlib.decompressobj() for _ in range(layers)]
    total = 0

    def push(level, chunk):
        nonlocal total
        if level == layers:
            total += len(chunk)
            if total > limit:
                raise _Stopped
            return
        decoder = decoders[level]
        while True:
            out = decoder.decompress(chunk, _CHUNK)
            if out:
                push(level + 1, out)
            chunk = decoder.unconsumed_tail
            if decoder.eof or (not chunk and len(out) < _CHUNK):
                return

    try:
        for start in range(0, len(data), _CHUNK):
            push(0, data[start:start + _CHUNK])
    except _Stopped:
        pass
    except zlib.error:
        # Damaged compressed data: what inflated before the damage is all a reader gets.
        pass
    return total


def _serve(connection, memory_limit):
    """A worker: inspect the files of each request sent, under a memory cap and a CPU allowance per request.

    Sends each file's facts as soon as they are known, then whether the worker stays for another request.
    """
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.nice(NICENESS)
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    for _ in range(JOBS_PER_WORKER):
        try:
            files, budget = connection.recv()
        except (EOFError, OSError):
            return
        # RLIMIT_CPU counts the process's whole life: allow this request's budget on top of what is used.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(usage.ru_utime + usage.ru_stime + budget) + 1, hard))
        deadline, stays = time.monotonic() + budget, True
        for data in files:
            left = deadline - time.monotonic()
            facts = inspect(data, min(rules.PDF_TIME_BUDGET, left)) if left > 0 else rules.PdfFacts(skipped=True)
            # A pypdf reader is a web of cycles: free it now, not when the next files have piled up theirs.
            gc.collect()
            # A worker that ran out of time or memory may be left in a poor state: replace it.
            stays = stays and facts.complete
            connection.send(facts)
        connection.send(stays)
        if not stays:
            return


_context_lock = threading.Lock()
_context = None


def _start_context():
    """The forkserver (or, where there is none, spawn) context, with this module preloaded in the server."""
    global _context
    with _context_lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            _context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if "forkserver" in methods:
                _context.set_forkserver_preload([__name__])
        return _context


class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, memory_limit):
        context = _start_context()
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, memory_limit), daemon=True,
                                       name="pdfguard-worker")
        self.process.start()
        theirs.close()

    def run(self, files, budget, grace):
        """(facts for each file, whether the worker can be used again); kills the worker when it overruns."""
        deadline = time.monotonic() + budget + grace
        facts = []
        try:
            self.connection.send((files, budget))
            while len(facts) < len(files):
                facts.append(self._receive(deadline))
            return facts, self._receive(deadline)
        except (_Stopped, EOFError, OSError):
            self.stop()
            # The file being read when the worker overran or died is refused as too complex; the ones
            # after it were never reached.
            if len(facts) < len(files):
                facts.append(rules.PdfFacts(complete=False))
            facts += [rules.PdfFacts(skipped=True)] * (len(files) - len(facts))
            return facts, False

    def _receive(self, deadline):
        if not self.connection.poll(max(0.0, deadline - time.monotonic())):
            raise _Stopped
        return self.connection.recv()

    def stop(self):
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class Guard:
    """Checks PDFs in worker processes: at most `workers` at once in this server process, `per_user` per user."""

    def __init__(self, *, workers=WORKERS, per_user=PER_USER, queue=QUEUE, wait=WAIT, budget=REQUEST_BUDGET,
                 grace=GRACE, memory_limit=MEMORY_LIMIT):
        self.workers, self.per_user, self.queue, self.wait = workers, per_user, queue, wait
        self.budget, self.grace, self.memory_limit = budget, grace, memory_limit
        self._state = threading.Condition()
        self._running, self._waiting = 0, 0
        self._by_user = collections.Counter()
        self._idle = []

    def measure(self, files: list[bytes], user) -> list[rules.PdfFacts]:
        """The facts of each file, read in a worker within one budget for them all; raises Busy when none frees up."""
        if not files:
            return []
        with self.turn(user):
            worker = self._take()
            try:
                facts, reusable = worker.run(files, self.budget, self.grace)
            except BaseException:
                worker.stop()
                raise
            if reusable:
                with self._state:
                    self._idle.append(worker)
            else:
                worker.stop()
            return facts

    def close(self):
        """Stop the idle workers (tests, shutdown)."""
        with self._state:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def _free(self, user):
        return self._running < self.workers and self._by_user[user] < self.per_user

    @contextlib.contextmanager
    def turn(self, user):
        """Hold one of the checks allowed at once, waiting up to `wait` seconds for it; raises Busy otherwise."""
        with self._state:
            if not self._free(user):
                if self._waiting >= self.queue:
                    raise Busy
                self._waiting += 1
                try:
                    if not self._state.wait_for(lambda: self._free(user), timeout=self.wait):
                        raise Busy
                finally:
                    self._waiting -= 1
            self._running += 1
            self._by_user[user] += 1
        try:
            yield
        finally:
            with self._state:
                self._running -= 1
                self._by_user[user] -= 1
                if not self._by_user[user]:
                    del self._by_user[user]
                self._state.notify_all()

    def _take(self):
        with self._state:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    return worker
                worker.stop()
        return _Worker(self.memory_limit)


_guard_lock = threading.Lock()
_guard = None


def guard() -> Guard:
    """This server process's Guard, made on first use."""
    global _guard
    with _guard_lock:
        if _guard is None:
            _guard = Guard()
        return _guard


def check_here(filename, data, *, field="attachments", time_budget=rules.PDF_TIME_BUDGET):
    """rules.check_pdf on a file read in this process, within ``time_budget`` seconds but without the worker's hard
    limits: for tests and scripts, never for a request."""
    refusal = rules.check_pdf_bytes(filename, data, field=field)
    return refusal or rules.check_pdf(filename, data, inspect(data, time_budget), field=field)
