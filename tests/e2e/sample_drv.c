/* sample_drv.c: a linked-in driver that exercises every ErlDrvBinary pattern
 * refctrace models, for the end-to-end tests against the real emulator
 * (refctrace_e2e.erl drives it). Built with -DREFCTRACE and the recorder.
 *
 * open_port({spawn, "sample_drv BUG"}, [binary]) seeds one bug, BUG one of
 * leak, double-free, write-after-output, dec-to-zero (anything else: none).
 * The comment "e2e:CODE" marks the line the test expects the finding at.
 */
#include <string.h>

#include "refctrace_recorder.h"

enum Command {
  kPing = 0,         /* does nothing: a barrier after port_command */
  kOutput = 1,       /* alloc, write, driver_output_binary, free; plus a copied small one */
  kFlushKept = 2,    /* driver_outputv of the binary kept in outputv, then free it */
  kQueue = 3,        /* driver_enq_bin, driver_pushq_bin, driver_enqv */
  kDrain = 4,        /* driver_deq by byte counts given in the request */
  kReuseSend = 5,    /* inet_drv style: take the reusable buffer, write, output */
  kReuseRelease = 6, /* inet_drv style: keep the buffer if refc == 1, else free */
  kSendTerm = 7,     /* erl_drv_send_term and erl_drv_output_term with ERL_DRV_BINARY */
  kQueueCopies = 8,  /* driver_enq, driver_pushq, driver_enqv of a NULL-binary segment */
  kReply = 9,        /* a binary-mode reply: 200 bytes by reference */
  kSmallReply = 10,  /* a binary-mode reply: 32 bytes, copied */
  kThreadSend = 11,  /* erl_drv_send_term with ERL_DRV_BINARY from a thread of the driver's */
};

typedef enum { kNoBug, kLeak, kDoubleFree, kWriteAfterOutput, kDecToZero } SeededBug;

typedef struct {
  ErlDrvPort port;
  SeededBug bug;
  ErlDrvBinary* kept;   /* an outputv binary kept with driver_binary_inc_refc */
  ErlDrvBinary* buffer; /* the reusable buffer of the inet_drv trick */
} SampleDriver;

static SeededBug ParseBug(const char* command) {
  const char* space = strchr(command, ' ');
  const char* name = space ? space + 1 : "";
  if (strcmp(name, "leak") == 0) return kLeak;
  if (strcmp(name, "double-free") == 0) return kDoubleFree;
  if (strcmp(name, "write-after-output") == 0) return kWriteAfterOutput;
  if (strcmp(name, "dec-to-zero") == 0) return kDecToZero;
  return kNoBug;
}

static ErlDrvData SampleStart(ErlDrvPort port, char* command) {
  SampleDriver* drv = driver_alloc(sizeof *drv);
  if (drv == NULL) return ERL_DRV_ERROR_GENERAL;
  drv->port = port;
  drv->bug = ParseBug(command);
  drv->kept = NULL;
  drv->buffer = NULL;
  REFCTRACE_SERVING(port);
  set_port_control_flags(port, PORT_CONTROL_FLAG_BINARY);
  return (ErlDrvData)drv;
}

static void SampleStop(ErlDrvData data) {
  SampleDriver* drv = (SampleDriver*)data;
  ErlDrvPort port = drv->port;
  REFCTRACE_SERVING(port);
  if (drv->kept != NULL) driver_free_binary(drv->kept);
  if (drv->buffer != NULL) driver_free_binary(drv->buffer);
  driver_free(drv);
  REFCTRACE_PORT_STOPPED(port);
}

/* The first large binary of the request is kept (inc), the second queued
 * (enq); both are borrowed only for the duration of this callback. */
static void SampleOutputv(ErlDrvData data, ErlIOVec* ev) {
  SampleDriver* drv = (SampleDriver*)data;
  REFCTRACE_SERVING(drv->port);
  REFCTRACE_BORROW_IOVEC(ev);
  int seen = 0;
  for (int i = 0; i < ev->vsize; ++i) {
    ErlDrvBinary* bin = ev->binv[i];
    if (bin == NULL || ev->iov[i].iov_len == 0) continue;
    if (seen == 0 && drv->kept == NULL) {
      driver_binary_inc_refc(bin);
      drv->kept = bin;
    } else if (seen == 1) {
      driver_enq_bin(drv->port, bin, (char*)ev->iov[i].iov_base - bin->orig_bytes,
                     ev->iov[i].iov_len);
    }
    ++seen;
  }
  REFCTRACE_UNBORROW_IOVEC(ev);
}

static ErlDrvBinary* AllocFilled(ErlDrvSizeT size, char fill) {
  ErlDrvBinary* bin = driver_alloc_binary(size); /* e2e:leak */
  if (bin == NULL) return NULL;
  memset(bin->orig_bytes, fill, size);
  REFCTRACE_WRITE(bin);
  return bin;
}

static void Output(SampleDriver* drv) {
  ErlDrvBinary* bin = AllocFilled(1000, 'o');
  if (bin == NULL) return;
  driver_output_binary(drv->port, NULL, 0, bin, 0, 1000);
  if (drv->bug == kWriteAfterOutput) {
    /* The receiver already has these bytes: it sees them change. */
    bin->orig_bytes[0] = 'X';
    REFCTRACE_WRITE(bin); /* e2e:mutate-after-output */
  }
  if (drv->bug != kLeak) driver_free_binary(bin);
  if (drv->bug == kDoubleFree) {
#ifdef REFCTRACE
    REFCTRACE_DEFUSE_NEXT_FREE(); /* a real second free frees the receiver's bytes */
    driver_free_binary(bin);      /* e2e:double-free */
#endif
  }

  /* 32 bytes: the emulator copies them into the message (no reference). */
  ErlDrvBinary* small = AllocFilled(32, 's');
  if (small == NULL) return;
  driver_output_binary(drv->port, NULL, 0, small, 0, 32);
  driver_free_binary(small);

  if (drv->bug == kDecToZero) {
    ErlDrvBinary* scratch = AllocFilled(100, 'd');
    if (scratch != NULL) driver_binary_dec_refc(scratch); /* e2e:dec-to-zero */
  }
}

/* An ErlIOVec of one segment: len bytes at bytes, in bin (NULL: bytes the
 * emulator must copy). */
typedef struct {
  SysIOVec iov[1];
  ErlDrvBinary* binv[1];
  ErlIOVec ev;
} OneSegment;

static ErlIOVec* Segment(OneSegment* one, char* bytes, ErlDrvSizeT len, ErlDrvBinary* bin) {
  one->iov[0].iov_base = bytes;
  one->iov[0].iov_len = len;
  one->binv[0] = bin;
  one->ev.vsize = 1;
  one->ev.size = len;
  one->ev.iov = one->iov;
  one->ev.binv = one->binv;
  return &one->ev;
}

static void FlushKept(SampleDriver* drv) {
  if (drv->kept == NULL) return;
  OneSegment one;
  driver_outputv(drv->port, NULL, 0,
                 Segment(&one, drv->kept->orig_bytes, drv->kept->orig_size, drv->kept), 0);
  driver_free_binary(drv->kept);
  drv->kept = NULL;
}

/* Three more segments: B (pushed to the head), A, and A's first half again
 * through driver_enqv. The driver keeps no reference of its own. */
static void Queue(SampleDriver* drv) {
  ErlDrvBinary* a = AllocFilled(600, 'a');
  ErlDrvBinary* b = AllocFilled(700, 'b');
  if (a == NULL || b == NULL) return;
  driver_enq_bin(drv->port, a, 0, 600);
  driver_pushq_bin(drv->port, b, 0, 700);
  OneSegment one;
  driver_enqv(drv->port, Segment(&one, a->orig_bytes, 300, a), 0);
  driver_free_binary(a);
  driver_free_binary(b);
}

/* The queue copies these bytes into binaries of its own: 100 at the tail,
 * 80 at the head, then 90 from a segment with no binary at the tail. */
static void QueueCopies(SampleDriver* drv) {
  char bytes[100];
  memset(bytes, 'c', sizeof bytes);
  driver_enq(drv->port, bytes, 100);
  driver_pushq(drv->port, bytes, 80);
  OneSegment one;
  driver_enqv(drv->port, Segment(&one, bytes, 90, NULL), 0);
}

/* The request is a list of 32-bit big-endian byte counts to dequeue. */
static void Drain(SampleDriver* drv, const char* buf, ErlDrvSizeT len) {
  for (ErlDrvSizeT i = 0; i + 4 <= len; i += 4) {
    const unsigned char* p = (const unsigned char*)buf + i;
    ErlDrvSizeT count = ((ErlDrvSizeT)p[0] << 24) | ((ErlDrvSizeT)p[1] << 16) |
                        ((ErlDrvSizeT)p[2] << 8) | (ErlDrvSizeT)p[3];
    driver_deq(drv->port, count);
  }
}

/* inet_drv's buffer stack in miniature: a buffer may be written again only
 * while the driver holds the only reference. */
static void ReuseSend(SampleDriver* drv) {
  if (drv->buffer == NULL) {
    /* Grown to size while it is still ours alone, as a reader would. */
    ErlDrvBinary* small = driver_alloc_binary(100);
    if (small == NULL) return;
    drv->buffer = driver_realloc_binary(small, 1000);
    if (drv->buffer == NULL) {
      driver_free_binary(small);
      return;
    }
  }
  memset(drv->buffer->orig_bytes, 'r', 1000);
  REFCTRACE_WRITE(drv->buffer);
  driver_output_binary(drv->port, NULL, 0, drv->buffer, 0, 1000);
}

static void ReuseRelease(SampleDriver* drv) {
  if (drv->buffer == NULL) return;
  if (driver_binary_get_refc(drv->buffer) == 1) return; /* ours alone: keep it */
  driver_free_binary(drv->buffer);
  drv->buffer = NULL;
}

static void SendTerm(SampleDriver* drv) {
  ErlDrvBinary* bin = AllocFilled(500, 't');
  if (bin == NULL) return;
  ErlDrvTermData port = driver_mk_port(drv->port);
  ErlDrvTermData sent[] = {ERL_DRV_ATOM,
                           driver_mk_atom("sent"),
                           ERL_DRV_BINARY,
                           (ErlDrvTermData)bin,
                           500,
                           0,
                           ERL_DRV_TUPLE,
                           2};
  erl_drv_send_term(port, driver_caller(drv->port), sent, sizeof sent / sizeof sent[0]);
  ErlDrvTermData output[] = {ERL_DRV_ATOM,
                             driver_mk_atom("output"),
                             ERL_DRV_BINARY,
                             (ErlDrvTermData)bin,
                             200,
                             100,
                             ERL_DRV_TUPLE,
                             2};
  erl_drv_output_term(port, output, sizeof output / sizeof output[0]);
  driver_free_binary(bin);
}

/* What the driver's own thread sends, and to whom. */
typedef struct {
  ErlDrvPort port;
  ErlDrvTermData receiver;
} ThreadSend;

/* On a thread of the driver's (not a scheduler): the emulator has no port in
 * hand, fires no send trace, and the recorder writes `to` "unknown". */
static void* SendFromThread(void* arg) {
  ThreadSend* send = arg;
  REFCTRACE_SERVING(send->port); /* this thread's calls are made for that port */
  ErlDrvBinary* bin = AllocFilled(600, 'h');
  if (bin == NULL) return NULL;
  ErlDrvTermData term[] = {ERL_DRV_ATOM,
                           driver_mk_atom("thread"),
                           ERL_DRV_BINARY,
                           (ErlDrvTermData)bin,
                           600,
                           0,
                           ERL_DRV_TUPLE,
                           2};
  erl_drv_send_term(driver_mk_port(send->port), send->receiver, term, sizeof term / sizeof term[0]);
  driver_free_binary(bin);
  return NULL;
}

/* The thread runs while the caller waits in port_control, so the message is
 * sent before the control returns. */
static int ThreadSendTerm(SampleDriver* drv) {
  ThreadSend send = {drv->port, driver_caller(drv->port)};
  ErlDrvTid tid;
  if (erl_drv_thread_create("sample_send", &tid, SendFromThread, &send, NULL) != 0) return -1;
  return erl_drv_thread_join(tid, NULL);
}

/* Binary mode: the reply is the binary itself, handed over with *rbuf. */
static ErlDrvSSizeT Reply(char** rbuf, ErlDrvSizeT size) {
  ErlDrvBinary* bin = AllocFilled(size, 'y');
  if (bin == NULL) return -1;
  *rbuf = (char*)bin;
  REFCTRACE_REPLY(bin);
  return (ErlDrvSSizeT)size;
}

static ErlDrvSSizeT SampleControl(ErlDrvData data, unsigned int command, char* buf, ErlDrvSizeT len,
                                  char** rbuf, ErlDrvSizeT rlen) {
  SampleDriver* drv = (SampleDriver*)data;
  REFCTRACE_SERVING(drv->port);
  (void)rlen;
  switch (command) {
    case kPing:
      break;
    case kOutput:
      Output(drv);
      break;
    case kFlushKept:
      FlushKept(drv);
      break;
    case kQueue:
      Queue(drv);
      break;
    case kDrain:
      Drain(drv, buf, len);
      break;
    case kReuseSend:
      ReuseSend(drv);
      break;
    case kReuseRelease:
      ReuseRelease(drv);
      break;
    case kSendTerm:
      SendTerm(drv);
      break;
    case kQueueCopies:
      QueueCopies(drv);
      break;
    case kReply:
      return Reply(rbuf, 200);
    case kSmallReply:
      return Reply(rbuf, 32);
    case kThreadSend:
      return ThreadSendTerm(drv) == 0 ? 0 : -1;
    default:
      return -1;
  }
  return 0;
}

static ErlDrvEntry sample_driver_entry = {
    .start = SampleStart,
    .stop = SampleStop,
    .driver_name = "sample_drv",
    .control = SampleControl,
    .outputv = SampleOutputv,
    .extended_marker = ERL_DRV_EXTENDED_MARKER,
    .major_version = ERL_DRV_EXTENDED_MAJOR_VERSION,
    .minor_version = ERL_DRV_EXTENDED_MINOR_VERSION,
};

DRIVER_INIT(sample_drv) {
  return &sample_driver_entry;
}
