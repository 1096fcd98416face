/* refctrace_shared_writer.h: one writer per trace file per emulator
 * process, whichever recorder libraries write it (a driver's and a NIF
 * library's in one node). Included by refctrace_trace_writer.h only.
 *
 * The emulator loads drivers and NIF libraries with dlopen(RTLD_NOW), that
 * is RTLD_LOCAL (erts/emulator/sys/unix/erl_unix_sys_ddll.c): each library
 * has its own copy of the writer's code and statics, and no symbol of one
 * is visible to another through dlsym(RTLD_DEFAULT). So the writer's state
 * (file, mapping, lock, offset) lives in memory no library owns (calloc,
 * never freed), and each library that writes it publishes its address
 * through an exported function, kSharedWriterSymbol. A library opening
 * REFCTRACE_TRACE first looks for it in every loaded object (dl_iterate_phdr,
 * then dlopen(RTLD_NOLOAD) and dlsym on that object's own handle, which
 * sees RTLD_LOCAL symbols) and joins the writer of the same file (device
 * and inode) when one is found; otherwise it owns a new one. A library
 * unloaded while another still writes takes nothing with it: the last one
 * to leave (unload or exit) closes the file (docs/decisions.md 170-172). */
#ifndef REFCTRACE_SHARED_WRITER_H
#define REFCTRACE_SHARED_WRITER_H

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* The part of a writer that every build of this header reads alike: a
 * library built from another refctrace finds a writer of the same file it
 * cannot share (another layout) and says so. Never change it. */
typedef struct {
  uint32_t magic;  /* kWriterMagic */
  uint32_t layout; /* kWriterLayout: the rest of TraceWriter */
  uint64_t size;   /* sizeof(TraceWriter) */
  uint64_t dev;    /* the trace file's st_dev and st_ino */
  uint64_t ino;
  int64_t pid; /* the process whose writer it is (a forked child's copy is not) */
} WriterIdentity;

enum { kWriterMagic = 0x52435457 /* "RCTW" */, kWriterLayout = 1 };

/* The name every recorder library exports; never change it. */
#define kSharedWriterSymbol "refctrace_shared_trace_writer"

typedef struct {
  WriterIdentity id;
  /* Held across the real call and the write of its line, so the order of
   * the lines in the file is the order in which the calls happened, from
   * every library (an address one thread frees and another gets back from
   * the allocator is freed first in the file too). The tracer module's
   * callbacks take it too; a callback that fires inside a recorded call (a
   * port's send trace, a NIF's enif_send to a traced process) runs on the
   * thread that already holds it, maybe in another library: recursive. */
  pthread_mutex_t lock;
  int fd;       /* -1: not recording (a forked child) */
  int closed;   /* the clean exit ran: nothing more is written */
  int users;    /* libraries writing through it; the last to leave closes it */
  char* window; /* the mapping of [window_start, window_start + window_size) */
  off_t window_start;
  size_t window_size;
  off_t used;               /* bytes of whole lines: where the next line goes */
  off_t size;               /* the file's size: used + the NUL bytes after it */
  char compress_path[4096]; /* "" or where the clean exit writes the zstd file */
  /* `t`'s offset to the emulator's clock (refctrace_trace_writer.h,
   * RecorderNow): learnt once for the file, so `t` never goes back in file
   * order across libraries either. */
  int clock_offset_known;
  long long clock_offset;
} TraceWriter;

/* This library's writer once it writes one: what kSharedWriterSymbol
 * returns to the others. */
static TraceWriter* published_writer;

/* Weak: a library that links both recorders still links (one is kept). */
__attribute__((weak, visibility("default"))) void* refctrace_shared_trace_writer(void) {
  return __atomic_load_n(&published_writer, __ATOMIC_ACQUIRE);
}

static void PublishWriter(TraceWriter* writer) {
  __atomic_store_n(&published_writer, writer, __ATOMIC_RELEASE);
}

static TraceWriter* NewWriter(const struct stat* file) {
  TraceWriter* writer = calloc(1, sizeof *writer);
  if (writer == NULL) return NULL;
  writer->id.magic = kWriterMagic;
  writer->id.layout = kWriterLayout;
  writer->id.size = sizeof *writer;
  writer->id.dev = (uint64_t)file->st_dev;
  writer->id.ino = (uint64_t)file->st_ino;
  writer->id.pid = (int64_t)getpid();
  pthread_mutexattr_t recursive;
  pthread_mutexattr_init(&recursive);
  pthread_mutexattr_settype(&recursive, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&writer->lock, &recursive);
  pthread_mutexattr_destroy(&recursive);
  writer->fd = -1;
  return writer;
}

/* The names of the loaded objects; the main program's is "" (dlopen(NULL):
 * the global scope, a program linked with a recorder and -rdynamic). */
typedef struct {
  char** names;
  size_t count;
  size_t capacity;
} LoadedNames;

static int AddLoadedName(struct dl_phdr_info* info, size_t size, void* context) {
  (void)size;
  LoadedNames* loaded = context;
  if (info->dlpi_name == NULL) return 0;
  if (loaded->count == loaded->capacity) {
    size_t capacity = loaded->capacity ? 2 * loaded->capacity : 64;
    char** names = realloc(loaded->names, capacity * sizeof *names);
    if (names == NULL) return 1;
    loaded->names = names;
    loaded->capacity = capacity;
  }
  char* name = strdup(info->dlpi_name);
  if (name != NULL) loaded->names[loaded->count++] = name;
  return 0;
}

/* What FindSharedWriter found. */
typedef enum { kNoWriter, kWriterFound, kWriterOfAnotherLayout } WriterSearch;

/* The writer of `file` another library of this process publishes. The
 * names are gathered first and opened after: dlopen inside
 * dl_iterate_phdr's callback could wait on the loader's lock. dlopen
 * (RTLD_NOLOAD) also keeps an object from being unloaded while its
 * function is called. */
static WriterSearch FindSharedWriter(const struct stat* file, TraceWriter** found) {
  LoadedNames loaded = {NULL, 0, 0};
  WriterSearch result = kNoWriter;
  dl_iterate_phdr(AddLoadedName, &loaded);
  for (size_t i = 0; i < loaded.count; ++i) {
    if (result == kNoWriter) {
      const char* name = loaded.names[i][0] != '\0' ? loaded.names[i] : NULL;
      void* handle = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
      if (handle != NULL) {
        void* (*lookup)(void) = (void* (*)(void))dlsym(handle, kSharedWriterSymbol);
        const WriterIdentity* id = lookup != NULL ? lookup() : NULL;
        if (id != NULL && id->magic == kWriterMagic && id->dev == (uint64_t)file->st_dev &&
            id->ino == (uint64_t)file->st_ino && id->pid == (int64_t)getpid()) {
          if (id->layout != kWriterLayout || id->size != sizeof(TraceWriter)) {
            result = kWriterOfAnotherLayout;
          } else {
            *found = (TraceWriter*)id;
            result = kWriterFound;
          }
        }
        dlclose(handle);
      }
    }
    free(loaded.names[i]);
  }
  free(loaded.names);
  return result;
}

/* Joins `writer` unless its last user closed it already. */
static int JoinWriter(TraceWriter* writer) {
  pthread_mutex_lock(&writer->lock);
  int open = !writer->closed && writer->fd >= 0;
  if (open) ++writer->users;
  pthread_mutex_unlock(&writer->lock);
  return open;
}

#endif /* REFCTRACE_SHARED_WRITER_H */
