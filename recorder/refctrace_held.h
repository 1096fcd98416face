/* refctrace_held.h: what a NIF library still holds when the emulator exits
 * (trace format 1.6 `held`, docs/recording.md "What the NIF still holds at
 * exit"). Not a public header: static functions, included once by
 * refctrace_nif.c.
 *
 * While recording, four tables follow the objects a library may keep for
 * its whole life: the binaries it owns (ref_bin and data), the resources
 * it allocated (with their size), its process-independent environments,
 * and the blocks it allocated through the header (enif_alloc, malloc and
 * the C library's other allocators, with their size). At the clean end of
 * recording (CloseTrace, through the writer's before_close hook, under
 * the writer's lock) a conservative scan, as LeakSanitizer's, reads word by word
 * (aligned uintptr_t) the roots: the priv_data of each live load, then the
 * library's writable segments; and transitively every tracked
 * block and every reached resource's data that a word points into (start
 * or interior). Every followed object a word names exactly (a binary by
 * ref_bin or data) gets one `held` line, with the root it was first
 * reached from, in the order the objects were allocated.
 *
 * The tables live on the heap (calloc), never inside the library's
 * segments, and the scan reads only the segments and tracked blocks, so
 * the recorder's own state is never taken for the library's; the little
 * held state that is static (the priv_data roots) is one struct, skipped
 * by address. */
#ifndef REFCTRACE_HELD_H
#define REFCTRACE_HELD_H

#include <errno.h>
#include <sys/uio.h> /* process_vm_readv (_GNU_SOURCE) */

/* ---- a table of followed objects: address -> (value, order) ---------- */

typedef struct {
  uintptr_t key; /* 0: empty */
  uintptr_t value;
  unsigned long long order; /* when it was added: the held lines' order */
} HeldEntry;

typedef struct {
  HeldEntry* slots;
  size_t capacity; /* a power of two, or 0 */
  size_t used;
  int numbered; /* its entries get a held_order (objects that may get a line) */
} HeldTable;

/* Binaries the NIF owns (ref_bin -> data), resources (obj -> size) and
 * independent environments: under call_lock, numbered in the order they
 * come (held_order). Allocated blocks (address -> size): under
 * block_lock, since enif_alloc and malloc write no line and take no call_lock
 * (call_lock, when both, first); not numbered (never a line). */
static HeldTable held_bins = {.numbered = 1}, held_resources = {.numbered = 1},
                 held_envs = {.numbered = 1}, held_blocks;
/* Regions the library named as roots (REFCTRACE_HELD_ROOT): start -> size,
 * under block_lock; not numbered. */
static HeldTable held_root_regions;
static pthread_mutex_t block_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long held_order;

static size_t HeldSlot(const HeldTable* table, uintptr_t key) {
  return (size_t)(((unsigned long long)key >> 4) * 0x9E3779B97F4A7C15ull >> 32) &
         (table->capacity - 1);
}

/* Linear probing; grown at half full. Out of memory: the object is not
 * followed (at worst it is reported a leak, as without the scan). */
static void HeldPut(HeldTable* table, uintptr_t key, uintptr_t value) {
  if (key == 0) return;
  if (2 * (table->used + 1) > table->capacity) {
    size_t capacity = table->capacity == 0 ? 64 : 2 * table->capacity;
    HeldEntry* slots = calloc(capacity, sizeof *slots);
    if (slots == NULL) return;
    HeldTable grown = {slots, capacity, 0, table->numbered};
    for (size_t i = 0; i < table->capacity; ++i) {
      if (table->slots[i].key == 0) continue;
      size_t at = HeldSlot(&grown, table->slots[i].key);
      while (slots[at].key != 0)
        at = (at + 1) & (capacity - 1);
      slots[at] = table->slots[i];
      ++grown.used;
    }
    free(table->slots);
    *table = grown;
  }
  size_t at = HeldSlot(table, key);
  while (table->slots[at].key != 0 && table->slots[at].key != key)
    at = (at + 1) & (table->capacity - 1);
  if (table->slots[at].key == 0) {
    ++table->used;
    table->slots[at] = (HeldEntry){key, value, table->numbered ? held_order++ : 0};
  } else {
    table->slots[at].value = value; /* the same object, moved or grown */
  }
}

static const HeldEntry* HeldFind(const HeldTable* table, uintptr_t key) {
  if (table->used == 0 || key == 0) return NULL;
  for (size_t at = HeldSlot(table, key); table->slots[at].key != 0;
       at = (at + 1) & (table->capacity - 1))
    if (table->slots[at].key == key) return &table->slots[at];
  return NULL;
}

/* Removes key (backward-shift deletion: no tombstones). */
static void HeldRemove(HeldTable* table, uintptr_t key) {
  if (table->used == 0 || key == 0) return;
  size_t mask = table->capacity - 1;
  size_t at = HeldSlot(table, key);
  while (table->slots[at].key != key) {
    if (table->slots[at].key == 0) return;
    at = (at + 1) & mask;
  }
  size_t hole = at;
  for (size_t next = (hole + 1) & mask; table->slots[next].key != 0; next = (next + 1) & mask) {
    size_t home = HeldSlot(table, table->slots[next].key);
    /* Moves back unless its home lies cyclically in (hole, next]. */
    if (((next - home) & mask) >= ((next - hole) & mask)) {
      table->slots[hole] = table->slots[next];
      hole = next;
    }
  }
  table->slots[hole].key = 0;
  --table->used;
}

/* The static part of the held state: the roots each live load returned,
 * skipped by the scan of the segments (it would reach them as `static`). */
enum { kMaxLoads = 8 };
static struct {
  int loads;             /* live loads (load or upgrade done, unload not yet) */
  void* priv[kMaxLoads]; /* their priv_data; NULL: none */
  int overflow;          /* more loads than kMaxLoads: no scan */
} held_roots;

static void HeldLoaded(void* priv) {
  Lock();
  if (held_roots.loads == kMaxLoads)
    held_roots.overflow = 1;
  else
    held_roots.priv[held_roots.loads] = priv;
  ++held_roots.loads;
  Unlock();
}

/* Unloaded: what it held is lost for good, and no longer a root. */
static void HeldUnloaded(void* priv) {
  Lock();
  int kept = held_roots.loads < kMaxLoads ? held_roots.loads : kMaxLoads;
  for (int i = 0; i < kept; ++i) {
    if (held_roots.priv[i] == priv) {
      held_roots.priv[i] = held_roots.priv[kept - 1];
      held_roots.priv[kept - 1] = NULL;
      break;
    }
  }
  if (held_roots.loads > 0) --held_roots.loads;
  Unlock();
}

/* ---- the blocks the library allocates (refctrace_nif.h) ------------- */

/* HeldPut and HeldRemove on a table under block_lock (blocks, root
 * regions), while recording. */
static void HeldLockedPut(HeldTable* table, const void* key, size_t value) {
  if (key == NULL || !Enabled()) return;
  pthread_mutex_lock(&block_lock);
  HeldPut(table, (uintptr_t)key, value);
  pthread_mutex_unlock(&block_lock);
}

static void HeldLockedRemove(HeldTable* table, const void* key) {
  if (key == NULL || !Enabled()) return;
  pthread_mutex_lock(&block_lock);
  HeldRemove(table, (uintptr_t)key);
  pthread_mutex_unlock(&block_lock);
}

/* A block the library got: followed by the scan (while recording). */
static void HeldBlockAdd(void* block, size_t size) {
  HeldLockedPut(&held_blocks, block, size);
}

/* Before the block is freed, so the scan never reads freed memory. A
 * pointer the table does not know (allocated before recording, by another
 * library, or in a file without the header) is simply not there. */
static void HeldBlockDrop(void* ptr) {
  HeldLockedRemove(&held_blocks, ptr);
}

/* malloc and enif_alloc. */
static void* HeldBlockAlloc(size_t size, void* (*real)(size_t)) {
  void* block = real(size);
  HeldBlockAdd(block, size);
  return block;
}

/* realloc and enif_realloc: the old block leaves the table before the
 * call (which may free it); a failed call leaves the old block, which it
 * did not free, followed as before. realloc(NULL, n) is an allocation;
 * realloc(p, 0) that returns NULL freed p (glibc). */
static void* HeldBlockRealloc(void* ptr, size_t size, void* (*real)(void*, size_t)) {
  if (!Enabled()) return real(ptr, size);
  pthread_mutex_lock(&block_lock);
  const HeldEntry* old = HeldFind(&held_blocks, (uintptr_t)ptr);
  size_t old_size = old != NULL ? old->value : 0;
  int tracked = old != NULL;
  HeldRemove(&held_blocks, (uintptr_t)ptr);
  pthread_mutex_unlock(&block_lock);
  void* moved = real(ptr, size);
  pthread_mutex_lock(&block_lock);
  if (moved != NULL)
    HeldPut(&held_blocks, (uintptr_t)moved, size);
  else if (tracked && size != 0)
    HeldPut(&held_blocks, (uintptr_t)ptr, old_size); /* failed: the old block stays */
  pthread_mutex_unlock(&block_lock);
  return moved;
}

/* enif_alloc, enif_realloc, enif_free */

void* refctrace_enif_alloc(size_t size) {
  return HeldBlockAlloc(size, enif_alloc);
}

void* refctrace_enif_realloc(void* ptr, size_t size) {
  return HeldBlockRealloc(ptr, size, enif_realloc);
}

void refctrace_enif_free(void* ptr) {
  HeldBlockDrop(ptr);
  enif_free(ptr);
}

/* The C library's: malloc, calloc, realloc, free, strdup, strndup,
 * posix_memalign, aligned_alloc (unless REFCTRACE_NO_MALLOC_WRAP in the
 * library's file: then these are not called). */

void* refctrace_malloc(size_t size) {
  return HeldBlockAlloc(size, malloc);
}

void* refctrace_calloc(size_t count, size_t size) {
  void* block = calloc(count, size);
  HeldBlockAdd(block, count * size); /* no overflow: calloc checked it */
  return block;
}

void* refctrace_realloc(void* ptr, size_t size) {
  return HeldBlockRealloc(ptr, size, realloc);
}

void refctrace_free(void* ptr) {
  HeldBlockDrop(ptr);
  free(ptr);
}

char* refctrace_strdup(const char* text) {
  char* copy = strdup(text);
  if (copy != NULL) HeldBlockAdd(copy, strlen(copy) + 1);
  return copy;
}

char* refctrace_strndup(const char* text, size_t size) {
  char* copy = strndup(text, size);
  if (copy != NULL) HeldBlockAdd(copy, strlen(copy) + 1);
  return copy;
}

int refctrace_posix_memalign(void** block, size_t alignment, size_t size) {
  int error = posix_memalign(block, alignment, size);
  if (error == 0) HeldBlockAdd(*block, size);
  return error;
}

void* refctrace_aligned_alloc(size_t alignment, size_t size) {
  void* block = aligned_alloc(alignment, size);
  HeldBlockAdd(block, size);
  return block;
}

/* REFCTRACE_HELD_ROOT, REFCTRACE_HELD_ROOT_DROP */

void refctrace_held_root(const void* start, size_t size) {
  HeldLockedPut(&held_root_regions, start, size);
}

void refctrace_held_root_drop(const void* start) {
  HeldLockedRemove(&held_root_regions, start);
}

/* ---- the scan at the clean end of recording ------------------------- */

/* Past this many bytes read, the scan gives up and writes no held line:
 * every object is then reported as before (a leak), never silenced.
 * -DREFCTRACE_HELD_SCAN_LIMIT=N sets another (nif_e2e's scan-limit run). */
#ifndef REFCTRACE_HELD_SCAN_LIMIT
#define REFCTRACE_HELD_SCAN_LIMIT (64 << 20)
#endif
enum { kMaxScanBytes = REFCTRACE_HELD_SCAN_LIMIT };

typedef enum { kHeldBin, kHeldResource, kHeldEnv } HeldKind;
static const char* const kHeldKeys[] = {"bin", "res", "env"};
static const char* const kHeldRoots[] = {NULL, "priv_data", "static"};

typedef struct {
  uintptr_t id;
  size_t size; /* a resource's: its data is scanned when it is reached */
  unsigned long long order;
  HeldKind kind;
  int root; /* 0: not reached; 1 priv_data, 2 static */
} HeldObject;

typedef struct {
  uintptr_t address; /* an id, or a binary's data */
  size_t object;
} HeldPoint;

typedef struct {
  uintptr_t start;
  size_t size;
  int reached;
} HeldBlock;

typedef struct {
  uintptr_t start, end;
  int root;
  int block; /* an allocated block: read through ReadBlock */
} HeldRange;

typedef struct {
  HeldObject* objects;
  size_t object_count;
  HeldPoint* points;
  size_t point_count;
  HeldBlock* blocks;
  size_t block_count;
  HeldRange* stack; /* ranges still to read */
  size_t stack_count, stack_capacity;
  uintptr_t low, high; /* every point and block lies in [low, high) */
  size_t scanned;      /* bytes read */
  int failed;          /* out of memory or past kMaxScanBytes */
} HeldScan;

static int CompareObjects(const void* a, const void* b) {
  const HeldObject *x = a, *y = b;
  return x->order < y->order ? -1 : x->order > y->order;
}

static int ComparePoints(const void* a, const void* b) {
  const HeldPoint *x = a, *y = b;
  return x->address < y->address ? -1 : x->address > y->address;
}

static int CompareBlocks(const void* a, const void* b) {
  const HeldBlock *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

static void AddObjects(HeldScan* scan, const HeldTable* table, HeldKind kind) {
  for (size_t i = 0; i < table->capacity; ++i) {
    const HeldEntry* e = &table->slots[i];
    if (e->key == 0) continue;
    scan->objects[scan->object_count++] =
        (HeldObject){e->key, kind == kHeldResource ? e->value : 0, e->order, kind, 0};
  }
}

static void Widen(HeldScan* scan, uintptr_t start, uintptr_t end) {
  if (start < scan->low) scan->low = start;
  if (end > scan->high) scan->high = end;
}

static void PushRange(HeldScan* scan, uintptr_t start, uintptr_t end, int root, int block) {
  if (scan->failed || end <= start) return;
  if (scan->stack_count == scan->stack_capacity) {
    size_t capacity = scan->stack_capacity == 0 ? 64 : 2 * scan->stack_capacity;
    HeldRange* stack = realloc(scan->stack, capacity * sizeof *stack);
    if (stack == NULL) {
      scan->failed = 1;
      return;
    }
    scan->stack = stack;
    scan->stack_capacity = capacity;
  }
  scan->stack[scan->stack_count++] = (HeldRange){start, end, root, block};
}

/* One word: an object it names is held from `root`; a block it points
 * into, or a resource's data, is read next. */
static void Visit(HeldScan* scan, uintptr_t word, int root) {
  if (word < scan->low || word >= scan->high) return;
  size_t lo = 0, hi = scan->point_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (scan->points[mid].address < word)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < scan->point_count && scan->points[lo].address == word) {
    HeldObject* o = &scan->objects[scan->points[lo].object];
    if (o->root == 0) {
      o->root = root;
      if (o->kind == kHeldResource) PushRange(scan, o->id, o->id + o->size, root, 0);
    }
  }
  /* The last block starting at or below word. */
  lo = 0, hi = scan->block_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (scan->blocks[mid].start <= word)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0) return;
  HeldBlock* b = &scan->blocks[lo - 1];
  if (!b->reached && word - b->start < (b->size > 0 ? b->size : 1)) {
    b->reached = 1;
    PushRange(scan, b->start, b->start + b->size, root, 1);
  }
}

static void Count(HeldScan* scan, size_t bytes) {
  scan->scanned += bytes;
  if (scan->scanned > kMaxScanBytes) scan->failed = 1;
}

/* Reads [start, end) word by word, but the held state's own statics. */
static void ReadRange(HeldScan* scan, uintptr_t start, uintptr_t end, int root) {
  const uintptr_t word = sizeof(uintptr_t);
  start = (start + word - 1) & ~(word - 1);
  const uintptr_t skip_start = (uintptr_t)&held_roots;
  const uintptr_t skip_end = skip_start + sizeof held_roots;
  for (uintptr_t at = start; at + word <= end; at += word) {
    if (at >= skip_start && at < skip_end) continue;
    Visit(scan, *(const uintptr_t*)at, root);
  }
  Count(scan, end > start ? end - start : 0);
}

/* An allocated block is copied out with process_vm_readv, which fails
 * where a direct read would fault: a block the library freed with the
 * real enif_free or free (through a function pointer, which the macro does
 * not replace, or from a file without the header) stays in the table, and its memory may be
 * unmapped. Where the call is refused (a seccomp profile), blocks are read directly. */
static void ReadBlock(HeldScan* scan, uintptr_t start, uintptr_t end, int root) {
  static int refused;
  enum { kWords = 2048 };
  uintptr_t copy[kWords];
  const uintptr_t word = sizeof(uintptr_t);
  start = (start + word - 1) & ~(word - 1);
  while (!refused && start + word <= end) {
    size_t len = (size_t)(end - start) / word * word;
    if (len > sizeof copy) len = sizeof copy;
    struct iovec local = {copy, len}, remote = {(void*)start, len};
    ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (n < 0 && (errno == EPERM || errno == ENOSYS)) {
      refused = 1;
      break;
    }
    if (n <= 0) return; /* not mapped: nothing more of it */
    for (size_t i = 0; i < (size_t)n / word; ++i)
      Visit(scan, copy[i], root);
    Count(scan, (size_t)n);
    if ((size_t)n < len) return;
    start += (uintptr_t)n;
  }
  if (refused) ReadRange(scan, start, end, root);
}

static void Drain(HeldScan* scan) {
  while (scan->stack_count > 0 && !scan->failed) {
    HeldRange r = scan->stack[--scan->stack_count];
    if (r.block)
      ReadBlock(scan, r.start, r.end, r.root);
    else
      ReadRange(scan, r.start, r.end, r.root);
  }
}

/* The writable PT_LOAD segments of the object this code is in. */
static int ScanOwnSegments(struct dl_phdr_info* info, size_t size, void* context) {
  (void)size;
  HeldScan* scan = context;
  const uintptr_t self = (uintptr_t)&ScanOwnSegments;
  int ours = 0;
  for (int i = 0; i < info->dlpi_phnum && !ours; ++i) {
    const ElfW(Phdr)* p = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + p->p_vaddr;
    ours = p->p_type == PT_LOAD && self >= start && self < start + p->p_memsz;
  }
  if (!ours) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)* p = &info->dlpi_phdr[i];
    if (p->p_type != PT_LOAD || !(p->p_flags & PF_W)) continue;
    uintptr_t start = info->dlpi_addr + p->p_vaddr;
    ReadRange(scan, start, start + p->p_memsz, 2);
    Drain(scan);
  }
  return 1;
}

static void FreeScan(HeldScan* scan) {
  free(scan->objects);
  free(scan->points);
  free(scan->blocks);
  free(scan->stack);
}

/* The held lines were written on request (HeldNow): not again at exit. */
static int held_written;

/* The held lines, before the trace is cut (the writer's before_close):
 * under call_lock. Nothing when no load is live (unloaded: what it held is
 * lost), when nothing is followed, or when the scan failed. */
static void WriteHeld(void) {
  size_t objects = held_bins.used + held_resources.used + held_envs.used;
  if (held_written || held_roots.loads == 0 || held_roots.overflow || objects == 0) return;
  pthread_mutex_lock(&block_lock);
  HeldScan scan;
  memset(&scan, 0, sizeof scan);
  scan.low = UINTPTR_MAX;
  scan.objects = calloc(objects, sizeof *scan.objects);
  scan.points = calloc(objects + held_bins.used, sizeof *scan.points);
  scan.blocks = calloc(held_blocks.used + 1, sizeof *scan.blocks);
  if (scan.objects == NULL || scan.points == NULL || scan.blocks == NULL) goto done;
  AddObjects(&scan, &held_bins, kHeldBin);
  AddObjects(&scan, &held_resources, kHeldResource);
  AddObjects(&scan, &held_envs, kHeldEnv);
  qsort(scan.objects, scan.object_count, sizeof *scan.objects, CompareObjects);
  for (size_t i = 0; i < scan.object_count; ++i) {
    HeldObject* o = &scan.objects[i];
    scan.points[scan.point_count++] = (HeldPoint){o->id, i};
    Widen(&scan, o->id, o->id + 1);
    if (o->kind != kHeldBin) continue;
    /* An owned binary's data too: a struct keeps both, a cache may keep
     * the bytes only. */
    const HeldEntry* bin = HeldFind(&held_bins, o->id);
    uintptr_t data = bin != NULL ? bin->value : 0;
    if (data != 0) {
      scan.points[scan.point_count++] = (HeldPoint){data, i};
      Widen(&scan, data, data + 1);
    }
  }
  qsort(scan.points, scan.point_count, sizeof *scan.points, ComparePoints);
  for (size_t i = 0; i < held_blocks.capacity; ++i) {
    const HeldEntry* e = &held_blocks.slots[i];
    if (e->key == 0) continue;
    scan.blocks[scan.block_count++] = (HeldBlock){e->key, e->value, 0};
    Widen(&scan, e->key, e->key + (e->value > 0 ? e->value : 1));
  }
  qsort(scan.blocks, scan.block_count, sizeof *scan.blocks, CompareBlocks);
  for (int i = 0; i < held_roots.loads && i < kMaxLoads; ++i) {
    Visit(&scan, (uintptr_t)held_roots.priv[i], 1);
    Drain(&scan);
  }
  dl_iterate_phdr(ScanOwnSegments, &scan);
  /* The regions the library named: read as its globals are, safely (a
   * region unmapped without its drop is skipped). */
  for (size_t i = 0; i < held_root_regions.capacity && !scan.failed; ++i) {
    const HeldEntry* e = &held_root_regions.slots[i];
    if (e->key == 0) continue;
    PushRange(&scan, e->key, e->key + e->value, 2, 1);
    Drain(&scan);
  }
  if (scan.failed) {
    fprintf(stderr,
            "refctrace: the scan of what the NIF library holds at exit stopped (more than %d "
            "bytes, or out of memory); what it holds is reported as leaks\n",
            (int)kMaxScanBytes);
    goto done;
  }
  for (size_t i = 0; i < scan.object_count; ++i) {
    const HeldObject* o = &scan.objects[i];
    if (o->root == 0) continue;
    Line text;
    Begin(&text, "held");
    AddId(&text, kHeldKeys[o->kind], o->id);
    AddString(&text, "in", kHeldRoots[o->root]);
    AddTime(&text);
    WriteLine(&text);
  }
done:
  FreeScan(&scan);
  pthread_mutex_unlock(&block_lock);
}

/* The held lines now, once, for a recording whose end comes before the
 * emulator's exit (the Common Test hook's last part, refctrace_cth): what
 * the library holds then. The scan at exit is then not made. */
static void HeldNow(void) {
  if (!Enabled()) return;
  Lock();
  if (writer->fd >= 0 && !writer->closed && !held_written) {
    WriteHeld();
    held_written = 1;
  }
  Unlock();
}

#endif /* REFCTRACE_HELD_H */
