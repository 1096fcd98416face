/* refctrace_live_binaries.h: the part of the process side every recorder
 * shares (the driver's, refctrace_recorder.c, and the NIF's, refctrace_nif.c):
 * the table of the binaries its lines have named that have not ended as far
 * as it knows (id, bytes, size, count), found by id or by bytes, and the news
 * for the Erlang tracer (which process got which binary, which binary ended).
 * The tracer module (refctrace_tracer_nif.c) finds which recorded binary a
 * binary term is by its bytes (ErlNifBinary.data of the term, inside the
 * binary's bytes), relates process_info's ids to it through the news, and
 * reports the processes' releases, which bring the count to 0.
 *
 * Not a public header: static functions, included once by each recorder
 * after refctrace_trace_writer.h (it uses its lock). Used under the writer's lock. */
#ifndef REFCTRACE_LIVE_BINARIES_H
#define REFCTRACE_LIVE_BINARIES_H

#ifndef REFCTRACE_TRACE_WRITER_H
#error "include refctrace_trace_writer.h before refctrace_live_binaries.h"
#endif

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* A binary the recorder follows: its id and its bytes (copied when seen,
 * never read again through the pointer). */
typedef struct {
  uintptr_t id;
  const char* bytes;
  size_t size;
  long count; /* after the last line written for it; -1: not known */
} LiveBinary;

static LiveBinary* live_binaries;
static size_t live_count, live_capacity;

/* What the Erlang tracer has not taken yet (TakeNews). */
typedef struct {
  const char* kind; /* "receive", "borrow", "made", "gone" */
  char pid[64];
  uintptr_t id;
  size_t size;
} News;

static News* news;
static size_t news_count, news_capacity;

static int Grow(void** items, size_t* capacity, size_t count, size_t item_size) {
  if (count < *capacity) return 1;
  size_t more = *capacity == 0 ? 64 : *capacity * 2;
  void* bigger = realloc(*items, more * item_size);
  if (bigger == NULL) return 0;
  *items = bigger;
  *capacity = more;
  return 1;
}

/* Set when the tracer module is loaded: without it nobody takes the news. */
static int tracer_attached;

static void AttachTracer(void) {
  Lock();
  tracer_attached = 1;
  Unlock();
}

static void AddNews(const char* kind, const char* pid, uintptr_t id, size_t size) {
  if (!tracer_attached) return;
  if (!Grow((void**)&news, &news_capacity, news_count, sizeof *news)) return;
  News* n = &news[news_count++];
  n->kind = kind;
  snprintf(n->pid, sizeof n->pid, "%s", pid != NULL ? pid : "");
  n->id = id;
  n->size = size;
}

/* id -> position + 1 in live_binaries (0: empty slot, kRemoved: a removed
 * entry, for the probe sequence), open addressing: every line's count
 * updates its binary's entry, so finding one must not scan them all. */
enum { kRemoved = (size_t)-1 };
static size_t* live_index;
static size_t index_capacity, index_used;

static size_t FirstSlot(uintptr_t id) {
  return (size_t)((id >> 3) * (uintptr_t)0x9E3779B97F4A7C15u) & (index_capacity - 1);
}

/* The slot that holds id, or NULL. */
static size_t* IndexSlot(uintptr_t id) {
  if (index_capacity == 0) return NULL;
  for (size_t slot = FirstSlot(id);; slot = (slot + 1) & (index_capacity - 1)) {
    size_t value = live_index[slot];
    if (value == 0) return NULL;
    if (value != kRemoved && live_binaries[value - 1].id == id) return &live_index[slot];
  }
}

static void IndexPut(uintptr_t id, size_t position) {
  size_t slot = FirstSlot(id);
  while (live_index[slot] != 0 && live_index[slot] != kRemoved)
    slot = (slot + 1) & (index_capacity - 1);
  if (live_index[slot] == 0) ++index_used;
  live_index[slot] = position + 1;
}

/* Room for one more entry: at most half the slots used (removed included). */
static int IndexReserve(void) {
  if ((index_used + 1) * 2 <= index_capacity) return 1;
  size_t capacity = index_capacity == 0 ? 256 : index_capacity;
  while ((live_count + 1) * 4 > capacity)
    capacity *= 2;
  size_t* slots = calloc(capacity, sizeof *slots);
  if (slots == NULL) return 0;
  free(live_index);
  live_index = slots;
  index_capacity = capacity;
  index_used = 0;
  for (size_t i = 0; i < live_count; ++i)
    IndexPut(live_binaries[i].id, i);
  return 1;
}

static LiveBinary* FindLive(uintptr_t id) {
  size_t* slot = IndexSlot(id);
  return slot != NULL ? &live_binaries[*slot - 1] : NULL;
}

static void Untrack(uintptr_t id) {
  size_t* slot = IndexSlot(id);
  if (slot == NULL) return;
  size_t position = *slot - 1;
  *slot = kRemoved;
  if (position != --live_count) {
    live_binaries[position] = live_binaries[live_count];
    *IndexSlot(live_binaries[position].id) = position + 1;
  }
  AddNews("gone", NULL, id, 0);
}

/* Follows binary `id` (its bytes and size; a known one gets the new size). */
static void TrackBytes(uintptr_t id, const char* bytes, size_t size) {
  LiveBinary* known = FindLive(id);
  if (known != NULL) {
    known->size = size;
    return;
  }
  if (!IndexReserve()) return;
  if (!Grow((void**)&live_binaries, &live_capacity, live_count, sizeof *live_binaries)) return;
  LiveBinary* b = &live_binaries[live_count];
  b->id = id;
  b->bytes = bytes;
  b->size = size;
  b->count = -1;
  IndexPut(b->id, live_count++);
}

/* A binary the emulator just made: one the table still has at that address
 * ended without the lines saying so (a process's release the tracer could
 * not attribute, trace format 1.4's `among`), and the tracer hears that it
 * is gone. */
static void TrackNewBytes(uintptr_t id, const char* bytes, size_t size) {
  if (FindLive(id) != NULL) Untrack(id);
  TrackBytes(id, bytes, size);
}

/* The binary whose bytes contain [data, data + size), newest first; `whole`
 * is the id the binary would have if the bytes were all of it (0: not
 * known), tried first. Returns 0 if none. */
static int FindByBytes(const void* data, size_t size, uintptr_t whole, uintptr_t* id,
                       size_t* orig_size) {
  const char* from = data;
  int found = 0;
  Lock();
  const LiveBinary* b = whole != 0 ? FindLive(whole) : NULL;
  if (b != NULL && b->bytes == from && size <= b->size) {
    *id = b->id;
    *orig_size = b->size;
    found = 1;
  }
  for (size_t i = live_count; i-- > 0 && !found;) {
    b = &live_binaries[i];
    if (from >= b->bytes && from + size <= b->bytes + b->size) {
      *id = b->id;
      *orig_size = b->size;
      found = 1;
    }
  }
  Unlock();
  return found;
}

static void NoteHolder(const char* kind, const char* pid, uintptr_t id, size_t orig_size) {
  Lock();
  AddNews(strcmp(kind, "borrow") == 0 ? "borrow" : "receive", pid, id, orig_size);
  Unlock();
}

static size_t TakeNews(void (*take)(void*, const char*, const char*, uintptr_t, size_t),
                       void* context) {
  Lock();
  size_t count = news_count;
  for (size_t i = 0; i < news_count; ++i)
    take(context, news[i].kind, news[i].pid, news[i].id, news[i].size);
  news_count = 0;
  Unlock();
  return count;
}

/* A line said the binary's count is `refc` now. */
static void SetCount(uintptr_t id, long refc) {
  LiveBinary* b = FindLive(id);
  if (b != NULL) b->count = refc;
}

/* A line changed the count by `delta` without reading it. */
static void AddToCount(uintptr_t id, long delta) {
  LiveBinary* b = FindLive(id);
  if (b != NULL && b->count >= 0) b->count += delta;
}

/* `count` references of `id` went (processes' gc or exit, a term's
 * environment cleared): at 0 the binary is gone and is forgotten. */
static void Released(uintptr_t id, long count) {
  Lock();
  LiveBinary* b = FindLive(id);
  if (b != NULL && b->count >= 0) {
    b->count -= count;
    if (b->count <= 0) Untrack(id);
  }
  Unlock();
}

#pragma GCC diagnostic pop

#endif /* REFCTRACE_LIVE_BINARIES_H */
