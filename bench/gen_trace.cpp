// Benchmark trace generator: writes a deterministic, valid (model-v1) NDJSON trace.
//
// Each binary's holders are a tracegen::HolderCounts (the holder rules shared
// with the property test), and the generator only emits ops that model-v1
// accepts, so `refctrace check` must report nothing on its output.
// `--inject-bugs K` adds K known bugs (double free, write after output, leak).
// All randomness comes from tracegen/splitmix64.h, so the same arguments give
// the same bytes on every platform and standard library.

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "tracegen/holder_counts.h"
#include "tracegen/splitmix64.h"

namespace {

constexpr uint64_t kAddrBase = 0x7f0000001000ULL;  // ids look like "0x7f0000001a40"
constexpr uint64_t kAddrStep = 0x40;
constexpr uint64_t kCopyLimit = 64;  // binaries up to this size are copied on output
// Budget margin per main-loop step: a step emits at most 4 events and raises
// the events needed to finish cleanly by at most 3.
constexpr uint64_t kStepMargin = 16;

struct Options {
  uint64_t events = 2000000;
  uint64_t seed = 1;
  uint64_t live = 2000;
  uint64_t procs = 64;
  uint64_t inject_bugs = 0;
  // No src, stack, t or seq: about 45 bytes a line instead of 100, for timing the per-line cost.
  bool short_lines = false;
  std::string out_path;
};

using Rng = refctrace::tracegen::SplitMix64;

// Buffered NDJSON writer with hand-rolled number formatting.
class Writer {
 public:
  explicit Writer(FILE* f) : f_(f) { buf_.reserve(kFlushAt + 4096); }
  void Raw(std::string_view s) { buf_.append(s); }
  void Char(char c) { buf_.push_back(c); }
  void Num(uint64_t v) {
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, r.ptr);
  }
  void Hex(uint64_t v) {
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v, 16);
    buf_.append(tmp, r.ptr);
  }
  void EndLine() {
    buf_.push_back('\n');
    if (buf_.size() >= kFlushAt) Flush();
  }
  bool Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) ok_ = false;
    bytes_ += buf_.size();
    buf_.clear();
    return ok_;
  }
  bool ok() const { return ok_; }
  uint64_t bytes() const { return bytes_ + buf_.size(); }

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  FILE* f_;
  std::string buf_;
  uint64_t bytes_ = 0;
  bool ok_ = true;
};

using refctrace::tracegen::HolderCounts;
using refctrace::tracegen::ProcessCounts;

// A binary's holders (processes are slots) plus the generator's bookkeeping.
struct Bin : HolderCounts {
  bool live = false;
  uint32_t live_pos = 0;
  uint64_t size = 0;
};

struct Slot {
  uint64_t pid;
  uint64_t held = 0;  // msg + proc references over all live binaries
};

// One event's fields; unset fields (-1 / nullptr) are not written.
struct Ev {
  const char* op;
  int64_t bin = -1;
  int64_t actor = -1;  // process slot; -1 = driver (field omitted)
  int64_t to = -1;
  int64_t size = -1;
  int64_t new_bin = -1;
  int64_t count = -1;
  int64_t refc = -1;
  bool copied = false;
  int src_line = 0;
  bool stack = false;
};

class Generator {
 public:
  Generator(const Options& o, Writer& w) : o_(o), w_(w), rng_(o.seed) {
    const uint64_t pool = o.live + o.live / 4 + 16 + o.inject_bugs;
    bins_.resize(pool);
    free_.reserve(pool);
    for (uint64_t i = pool; i-- > 0;)
      free_.push_back(static_cast<uint32_t>(i));
    for (uint64_t i = 0; i < o.procs; ++i)
      slots_.push_back(Slot{next_pid_++});
    bug_left_ = o.inject_bugs;
  }

  void Run() {
    w_.Raw("{\"refctrace\":1,\"source\":\"refctrace_bench_gen\",\"seed\":");
    w_.Num(o_.seed);
    w_.Char('}');
    w_.EndLine();

    const uint64_t slack = std::min<uint64_t>(o_.events / 20, 2 * o_.live + 256);
    while (Remaining() > MinCost() + slack + 8 * bug_left_ + kStepMargin) {
      if (bug_left_ > 0 && emitted_ >= NextBugPos()) {
        if (InjectBug()) continue;
      }
      Step();
    }
    while (bug_left_ > 0) {
      if (!InjectBug()) break;  // no free address: cannot happen, the pool reserves one per bug
    }
    WindDown();
    Drain();
  }

  uint64_t emitted() const { return emitted_; }

 private:
  // ---- bookkeeping -------------------------------------------------------

  uint64_t Remaining() const { return o_.events - emitted_; }
  // Events needed to end cleanly from here: one free per driver ref, one gc
  // per unattributed vm ref, one exit per process holding anything, stop, end.
  uint64_t MinCost() const { return sum_driver_ + sum_vm_ + procs_holding_ + 2; }
  uint64_t NextBugPos() const {
    const uint64_t i = o_.inject_bugs - bug_left_;
    return (i + 1) * o_.events / (o_.inject_bugs + 1);
  }

  uint32_t TakeFreeAddr() {
    const uint64_t i = rng_.Below(free_.size());
    const uint32_t a = free_[i];
    free_[i] = free_.back();
    free_.pop_back();
    return a;
  }

  void StartBin(uint32_t a, uint64_t size) {
    Bin& b = bins_[a];
    b = Bin{};
    b.live = true;
    b.size = size;
    b.live_pos = static_cast<uint32_t>(live_.size());
    live_.push_back(a);
  }

  void Unlist(uint32_t a) {
    Bin& b = bins_[a];
    const uint32_t last = live_.back();
    live_[b.live_pos] = last;
    bins_[last].live_pos = b.live_pos;
    live_.pop_back();
    b.live = false;
  }

  void EndBin(uint32_t a) {
    Unlist(a);
    bins_[a].processes.clear();
    free_.push_back(a);
  }

  void SlotHeld(uint32_t slot, int64_t delta) {
    Slot& s = slots_[slot];
    const bool before = s.held > 0;
    s.held = static_cast<uint64_t>(static_cast<int64_t>(s.held) + delta);
    const bool after = s.held > 0;
    if (!before && after) ++procs_holding_;
    if (before && !after) --procs_holding_;
  }

  void AddMsg(Bin& b, uint32_t slot) {
    b.Message(slot);
    SlotHeld(slot, 1);
  }

  // ---- emitting ----------------------------------------------------------

  void Pid(uint32_t slot) {
    w_.Raw("\"<0.");
    w_.Num(slots_[slot].pid);
    w_.Raw(".0>\"");
  }

  void Emit(const Ev& e) {
    w_.Raw("{\"op\":\"");
    w_.Raw(e.op);
    w_.Char('"');
    if (e.bin >= 0) {
      w_.Raw(",\"bin\":\"0x");
      w_.Hex(kAddrBase + static_cast<uint64_t>(e.bin) * kAddrStep);
      w_.Char('"');
    }
    if (e.actor >= 0) {
      w_.Raw(",\"actor\":");
      Pid(static_cast<uint32_t>(e.actor));
    }
    if (e.to >= 0) {
      w_.Raw(",\"to\":");
      Pid(static_cast<uint32_t>(e.to));
    }
    if (e.size >= 0) {
      w_.Raw(",\"size\":");
      w_.Num(static_cast<uint64_t>(e.size));
    }
    if (e.new_bin >= 0) {
      w_.Raw(",\"new_bin\":\"0x");
      w_.Hex(kAddrBase + static_cast<uint64_t>(e.new_bin) * kAddrStep);
      w_.Char('"');
    }
    if (e.count >= 0) {
      w_.Raw(",\"count\":");
      w_.Num(static_cast<uint64_t>(e.count));
    }
    if (e.copied) w_.Raw(",\"copied\":true");
    if (e.refc >= 0) {
      w_.Raw(",\"refc\":");
      w_.Num(static_cast<uint64_t>(e.refc));
    }
    t_ += 1 + rng_.Below(40);  // drawn either way: --short-lines keeps the same events
    if (o_.short_lines) {
      w_.Char('}');
      w_.EndLine();
      ++emitted_;
      return;
    }
    if (e.src_line > 0) {
      w_.Raw(",\"src\":\"bench_drv.c:");
      w_.Num(static_cast<uint64_t>(e.src_line));
      w_.Char('"');
    }
    if (e.stack) {
      w_.Raw(",\"stack\":[\"bench_drv.c:");
      w_.Num(static_cast<uint64_t>(e.src_line));
      w_.Raw("\",\"bench_drv.c:412\",\"erts_port_task_execute\"]");
    }
    w_.Raw(",\"t\":");
    w_.Num(t_);
    w_.Raw(",\"seq\":");
    w_.Num(emitted_ + 1);
    w_.Char('}');
    w_.EndLine();
    ++emitted_;
  }

  // Source line for a driver op: a few call sites per op, like a real driver.
  int Src(int base) { return base + static_cast<int>(rng_.Below(3)) * 37; }
  // Optional after-op refc cross-check; never on a release that ends the binary.
  int64_t MaybeRefc(const Bin& b) {
    return (b.live && b.Refc() > 0 && rng_.Chance(120)) ? b.Refc() : -1;
  }

  uint64_t RandomSize() {
    const uint64_t r = rng_.Below(100);
    if (r < 25) return 1 + rng_.Below(kCopyLimit);         // small: copied on output
    if (r < 75) return kCopyLimit + 1 + rng_.Below(4032);  // up to 4 KiB
    if (r < 95) return 4097 + rng_.Below(61440);           // up to 64 KiB
    return 65537 + rng_.Below(1 << 20);                    // large
  }

  // ---- legal operations (each keeps the generator's model in step) --------

  void Alloc(uint32_t a, uint64_t size) {
    StartBin(a, size);
    Bin& b = bins_[a];
    b.driver = 1;
    ++sum_driver_;
    Ev e{"alloc"};
    e.bin = a;
    e.size = static_cast<int64_t>(size);
    e.src_line = Src(88);
    e.stack = rng_.Chance(20);
    if (rng_.Chance(100)) e.refc = 1;
    Emit(e);
  }

  // free (or dec when it cannot reach zero) of one driver reference.
  void Release(uint32_t a, bool use_dec) {
    Bin& b = bins_[a];
    --b.driver;
    --sum_driver_;
    Ev e{use_dec ? "dec" : "free"};
    e.bin = a;
    e.src_line = Src(use_dec ? 301 : 140);
    e.refc = MaybeRefc(b);
    if (b.Refc() == 0) EndBin(a);
    Emit(e);
  }

  void Inc(uint32_t a) {
    Bin& b = bins_[a];
    ++b.driver;
    ++sum_driver_;
    Ev e{"inc"};
    e.bin = a;
    e.src_line = Src(290);
    e.refc = MaybeRefc(b);
    Emit(e);
  }

  void Observe(uint32_t a) {
    Ev e{"observe"};
    e.bin = a;
    e.refc = bins_[a].Refc();
    e.src_line = Src(120);
    Emit(e);
  }

  void Write(uint32_t a) {
    Ev e{"write"};
    e.bin = a;
    e.src_line = Src(122);
    Emit(e);
  }

  void Read(uint32_t a) {
    Ev e{"read"};
    e.bin = a;
    e.src_line = Src(200);
    Emit(e);
  }

  void Output(uint32_t a, uint32_t to) {
    Bin& b = bins_[a];
    Ev e{"output"};
    e.bin = a;
    e.to = to;
    e.copied = b.size <= kCopyLimit;
    if (!e.copied) AddMsg(b, to);
    e.src_line = Src(97);
    e.refc = MaybeRefc(b);
    Emit(e);
  }

  void Enq(uint32_t a) {
    Bin& b = bins_[a];
    ++b.queue;
    queue_.push_back(a);
    Ev e{"enq"};
    e.bin = a;
    e.src_line = Src(250);
    e.refc = MaybeRefc(b);
    Emit(e);
  }

  // driver_deq consumes the oldest queue segment first.
  void Deq() {
    const uint32_t a = queue_.front();
    queue_.pop_front();
    Bin& b = bins_[a];
    --b.queue;
    Ev e{"deq"};
    e.bin = a;
    e.src_line = Src(265);
    e.refc = MaybeRefc(b);
    if (b.Refc() == 0) EndBin(a);
    Emit(e);
  }

  void Realloc(uint32_t a, bool move) {
    const uint64_t size = RandomSize();
    Ev e{"realloc"};
    e.bin = a;
    e.size = static_cast<int64_t>(size);
    e.src_line = Src(160);
    uint32_t cur = a;
    if (move && !free_.empty()) {
      const uint32_t n = TakeFreeAddr();
      Bin moved = std::move(bins_[a]);
      EndBin(a);
      StartBin(n, size);
      Bin& nb = bins_[n];
      const uint32_t pos = nb.live_pos;
      nb = std::move(moved);
      nb.live = true;
      nb.live_pos = pos;
      e.new_bin = n;
      cur = n;
    }
    bins_[cur].size = size;
    e.refc = MaybeRefc(bins_[cur]);
    Emit(e);
  }

  void Receive(uint32_t a, uint32_t slot) {
    bins_[a].Receive(slot);
    Ev e{"receive"};
    e.bin = a;
    e.actor = slot;
    e.refc = MaybeRefc(bins_[a]);
    Emit(e);
  }

  void Send(uint32_t a, uint32_t from, uint32_t to) {
    Bin& b = bins_[a];
    AddMsg(b, to);  // may reallocate holders: look up nothing across this call
    Ev e{"send"};
    e.bin = a;
    e.actor = from;
    e.to = to;
    e.refc = MaybeRefc(b);
    Emit(e);
  }

  void GcProc(uint32_t a, uint32_t slot, uint32_t count) {
    Bin& b = bins_[a];
    b.Gc(slot, count);
    SlotHeld(slot, -static_cast<int64_t>(count));
    b.ForgetEmpty();
    Ev e{"gc"};
    e.bin = a;
    e.actor = slot;
    if (count > 1 || rng_.Chance(50)) e.count = count;
    e.refc = MaybeRefc(b);
    if (b.Refc() == 0) EndBin(a);
    Emit(e);
  }

  // The sender's unattributed reference (from an outputv borrow) goes away:
  // gc by a process that holds no heap reference to the binary.
  void GcVm(uint32_t a, uint32_t slot, uint32_t count) {
    Bin& b = bins_[a];
    b.Gc(slot, count);  // the slot holds none in its heap: from vm
    sum_vm_ -= count;
    Ev e{"gc"};
    e.bin = a;
    e.actor = slot;
    if (count > 1) e.count = count;
    e.refc = MaybeRefc(b);
    if (b.Refc() == 0) EndBin(a);
    Emit(e);
  }

  // A slot with no heap reference to b (the model would take a gc from proc first).
  int64_t SlotWithoutProc(Bin& b) {
    for (int tries = 0; tries < 8; ++tries) {
      const uint32_t s = static_cast<uint32_t>(rng_.Below(slots_.size()));
      const ProcessCounts* h = b.Find(s);
      if (h == nullptr || h->proc == 0) return s;
    }
    for (uint32_t s = 0; s < slots_.size(); ++s) {
      const ProcessCounts* h = b.Find(s);
      if (h == nullptr || h->proc == 0) return s;
    }
    return -1;
  }

  void Exit(uint32_t slot) {
    Ev e{"exit"};
    e.actor = slot;
    Emit(e);
    for (size_t i = live_.size(); i-- > 0;) {
      const uint32_t a = live_[i];
      Bin& b = bins_[a];
      if (b.Find(slot) == nullptr) continue;
      b.Exit(slot);
      if (b.Refc() == 0) EndBin(a);
    }
    if (slots_[slot].held > 0) --procs_holding_;
    slots_[slot] = Slot{next_pid_++};  // exited pids are never used again
  }

  // outputv/control callback got an emulator-owned binary.
  void BorrowNew() {
    const uint32_t a = TakeFreeAddr();
    StartBin(a, RandomSize());
    Bin& b = bins_[a];
    const uint32_t vm = rng_.Chance(900) ? 1 : 2;
    b.vm = vm;
    b.borrowed = true;
    sum_vm_ += vm;
    Ev e{"borrow"};
    e.bin = a;
    e.refc = vm;
    e.src_line = Src(330);
    Emit(e);
    const uint64_t v = rng_.Below(100);
    if (v < 35) {  // driver_enqv: the queue takes its own reference
      Read(a);
      Enq(a);
    } else if (v < 65) {  // keep it past the callback, and queue it
      Inc(a);
      Enq(a);
    } else if (v < 85) {  // only looked at it
      Read(a);
    } else {  // keep it past the callback
      Inc(a);
    }
    Unborrow(a);
  }

  // A binary already known (e.g. output earlier, sent back by a process).
  void BorrowLive(uint32_t a) {
    Bin& b = bins_[a];
    b.borrowed = true;
    Ev e{"borrow"};
    e.bin = a;
    e.refc = b.Refc();
    e.src_line = Src(330);
    Emit(e);
    Read(a);
    if (rng_.Chance(300)) Enq(a);
    Unborrow(a);
  }

  void Unborrow(uint32_t a) {
    bins_[a].borrowed = false;
    Ev e{"unborrow"};
    e.bin = a;
    e.src_line = Src(360);
    Emit(e);
  }

  // ---- choosing ----------------------------------------------------------

  template <class Pred>
  int64_t Pick(Pred pred, int tries = 12) {
    if (live_.empty()) return -1;
    for (int i = 0; i < tries; ++i) {
      const uint32_t a = live_[rng_.Below(live_.size())];
      if (pred(bins_[a])) return a;
    }
    return -1;
  }

  ProcessCounts& RandomHolder(Bin& b, bool want_msg) {
    const size_t start = rng_.Below(b.processes.size());
    for (size_t i = 0; i < b.processes.size(); ++i) {
      ProcessCounts& h = b.processes[(start + i) % b.processes.size()];
      if (want_msg ? h.msg > 0 : h.proc > 0) return h;
    }
    std::abort();  // callers checked HasMessage/HasHeap
  }

  uint32_t OtherSlot(uint32_t not_this) {
    uint32_t s = static_cast<uint32_t>(rng_.Below(slots_.size() - 1));
    return s >= not_this ? s + 1 : s;
  }

  enum Kind {
    kAlloc,
    kOutput,
    kReceive,
    kSend,
    kGc,
    kInc,
    kDec,
    kFree,
    kObserve,
    kInetWrite,
    kWrite,
    kRead,
    kEnq,
    kDeq,
    kRealloc,
    kBorrowNew,
    kBorrowLive,
    kExit,
    kKinds
  };

  // Weights per 10,000 steps; tuned so the emitted mix is realistic while
  // binaries keep getting released.
  static constexpr int kWeights[kKinds] = {
      950,   // alloc (sometimes followed by a fill write)
      1500,  // output
      1150,  // receive
      400,   // send
      1150,  // gc
      300,   // inc
      250,   // dec
      800,   // free
      500,   // observe
      250,   // inet_drv reuse: observe refc 1, write, output
      150,   // write
      550,   // read
      400,   // enq
      560,   // deq
      200,   // realloc
      180,   // borrow (new binary) ... unborrow
      60,    // borrow (known binary) ... unborrow
      15,    // exit
  };

  bool TryKind(int k) {
    switch (k) {
      case kAlloc: {
        if (live_.size() >= o_.live || free_.empty()) return false;
        const uint32_t a = TakeFreeAddr();
        Alloc(a, RandomSize());
        if (rng_.Chance(400)) Write(a);
        return true;
      }
      case kOutput: {
        const int64_t a = Pick([](const Bin& b) { return b.driver >= 1; });
        if (a < 0) return false;
        Output(static_cast<uint32_t>(a), static_cast<uint32_t>(rng_.Below(slots_.size())));
        return true;
      }
      case kReceive: {
        const int64_t a = Pick([](const Bin& b) { return b.HasMessage(); });
        if (a < 0) return false;
        Receive(static_cast<uint32_t>(a), RandomHolder(bins_[a], true).process);
        return true;
      }
      case kSend: {
        if (slots_.size() < 2) return false;
        const int64_t a = Pick([](const Bin& b) { return b.HasHeap(); });
        if (a < 0) return false;
        const uint32_t from = RandomHolder(bins_[a], false).process;
        Send(static_cast<uint32_t>(a), from, OtherSlot(from));
        return true;
      }
      case kGc: {
        const int64_t a = Pick([](const Bin& b) { return b.vm > 0 || b.HasHeap(); });
        if (a < 0) return false;
        Bin& b = bins_[a];
        if (b.vm > 0 && (!b.HasHeap() || rng_.Chance(500))) {
          const int64_t s = SlotWithoutProc(b);
          if (s < 0) return false;
          GcVm(static_cast<uint32_t>(a), static_cast<uint32_t>(s),
               rng_.Chance(300) ? static_cast<uint32_t>(b.vm) : 1);
          return true;
        }
        ProcessCounts& h = RandomHolder(b, false);
        const uint32_t count = (h.proc > 1 && rng_.Chance(500)) ? static_cast<uint32_t>(h.proc) : 1;
        GcProc(static_cast<uint32_t>(a), h.process, count);
        return true;
      }
      case kInc: {
        const int64_t a = Pick([](const Bin& b) { return b.driver >= 1 && b.driver < 4; });
        if (a < 0) return false;
        Inc(static_cast<uint32_t>(a));
        return true;
      }
      case kDec: {
        const int64_t a = Pick([](const Bin& b) { return b.driver >= 1 && b.Refc() >= 2; });
        if (a < 0) return false;
        Release(static_cast<uint32_t>(a), true);
        return true;
      }
      case kFree: {
        const int64_t a = Pick([](const Bin& b) { return b.driver >= 1; });
        if (a < 0) return false;
        Release(static_cast<uint32_t>(a), false);
        return true;
      }
      case kObserve: {
        const int64_t a = Pick([](const Bin& b) { return b.Access(); });
        if (a < 0) return false;
        Observe(static_cast<uint32_t>(a));
        return true;
      }
      case kInetWrite: {
        const int64_t a = Pick(
            [](const Bin& b) { return b.driver == 1 && b.SoleDriver() && b.size > kCopyLimit; });
        if (a < 0) return false;
        Observe(static_cast<uint32_t>(a));
        Write(static_cast<uint32_t>(a));
        Output(static_cast<uint32_t>(a), static_cast<uint32_t>(rng_.Below(slots_.size())));
        return true;
      }
      case kWrite: {
        const int64_t a = Pick([](const Bin& b) { return b.SoleDriver(); });
        if (a < 0) return false;
        Write(static_cast<uint32_t>(a));
        return true;
      }
      case kRead: {
        const int64_t a = Pick([](const Bin& b) { return b.Access(); });
        if (a < 0) return false;
        Read(static_cast<uint32_t>(a));
        return true;
      }
      case kEnq: {
        const int64_t a = Pick([](const Bin& b) { return b.driver >= 1 && b.queue < 3; });
        if (a < 0) return false;
        Enq(static_cast<uint32_t>(a));
        return true;
      }
      case kDeq: {
        if (queue_.empty()) return false;
        Deq();
        return true;
      }
      case kRealloc: {
        const int64_t a = Pick([](const Bin& b) { return b.SoleDriver(); });
        if (a < 0) return false;
        Realloc(static_cast<uint32_t>(a), rng_.Chance(300));
        return true;
      }
      case kBorrowNew: {
        if (live_.size() >= o_.live || free_.empty()) return false;
        BorrowNew();
        return true;
      }
      case kBorrowLive: {
        const int64_t a = Pick([](const Bin& b) { return b.size > kCopyLimit; });
        if (a < 0) return false;
        BorrowLive(static_cast<uint32_t>(a));
        return true;
      }
      case kExit:
        Exit(static_cast<uint32_t>(rng_.Below(slots_.size())));
        return true;
      default:
        return false;
    }
  }

  void Step() {
    static constexpr int kTotal = [] {
      int t = 0;
      for (int w : kWeights)
        t += w;
      return t;
    }();
    int r = static_cast<int>(rng_.Below(kTotal));
    int k = 0;
    while (r >= kWeights[k])
      r -= kWeights[k++];
    if (TryKind(k)) return;
    // Nothing fits the chosen op: fall back in a fixed order.
    for (int f : {kRead, kAlloc, kBorrowNew, kReceive, kGc, kDeq, kFree})
      if (TryKind(f)) return;
    Exit(static_cast<uint32_t>(rng_.Below(slots_.size())));
  }

  // ---- injected bugs -----------------------------------------------------

  bool InjectBug() {
    if (free_.empty()) return false;
    const uint64_t kind = (o_.inject_bugs - bug_left_) % 3;
    --bug_left_;
    const uint32_t a = TakeFreeAddr();
    if (kind == 0) {  // double free on the freed id
      Alloc(a, 65 + rng_.Below(2000));
      Release(a, false);
      Ev e{"free"};
      e.bin = a;
      e.src_line = 141;
      Emit(e);
    } else if (kind == 1) {  // write after the binary went to a process
      Alloc(a, 65 + rng_.Below(2000));
      Output(a, static_cast<uint32_t>(rng_.Below(slots_.size())));
      Write(a);  // the model ignores it: the generator's state stays right
    } else {     // leak: the driver forgets the binary; its address is never reused
      Alloc(a, 65 + rng_.Below(2000));
      Read(a);
      --sum_driver_;
      Unlist(a);
    }
    return true;
  }

  // ---- ending ------------------------------------------------------------

  // Release things naturally while the budget allows more than the minimum.
  void WindDown() {
    while (Remaining() > MinCost()) {
      const uint64_t r = rng_.Below(100);
      int64_t a = -1;
      if (r < 30 && (a = Pick([](const Bin& b) { return b.driver >= 1; })) >= 0) {
        Bin& b = bins_[a];
        Release(static_cast<uint32_t>(a), b.Refc() >= 2 && rng_.Chance(250));
      } else if (r < 45 && !queue_.empty()) {
        Deq();
      } else if (r < 65 && (a = Pick([](const Bin& b) { return b.HasMessage(); })) >= 0) {
        Receive(static_cast<uint32_t>(a), RandomHolder(bins_[a], true).process);
      } else if (r < 85 && (a = Pick([](const Bin& b) { return b.HasHeap(); })) >= 0) {
        ProcessCounts& h = RandomHolder(bins_[a], false);
        GcProc(static_cast<uint32_t>(a), h.process, 1);
      } else if (r < 95 && (a = Pick([](const Bin& b) { return b.vm > 0; })) >= 0) {
        const int64_t s = SlotWithoutProc(bins_[a]);
        if (s >= 0) GcVm(static_cast<uint32_t>(a), static_cast<uint32_t>(s), 1);
      } else {
        Exit(static_cast<uint32_t>(rng_.Below(slots_.size())));
      }
    }
  }

  // Exactly MinCost() events: free driver refs, exit holding processes, gc vm
  // refs, then stop (clears the queue) and end.
  void Drain() {
    std::vector<uint32_t> snapshot = live_;
    for (uint32_t a : snapshot) {
      while (bins_[a].live && bins_[a].driver > 0) {
        const Bin& b = bins_[a];
        Release(a, b.driver >= 2 && b.Refc() >= 2 && rng_.Chance(300));
      }
    }
    for (uint32_t s = 0; s < slots_.size(); ++s)
      if (slots_[s].held > 0) Exit(s);
    snapshot = live_;
    for (uint32_t a : snapshot) {
      while (bins_[a].live && bins_[a].vm > 0)
        GcVm(a, static_cast<uint32_t>(rng_.Below(slots_.size())), 1);
    }
    Emit(Ev{"stop"});
    Emit(Ev{"end"});
  }

  const Options& o_;
  Writer& w_;
  Rng rng_;
  std::vector<Bin> bins_;  // indexed by address slot
  std::vector<uint32_t> live_;
  std::vector<uint32_t> free_;
  std::deque<uint32_t> queue_;  // the port's I/O queue, oldest first
  std::vector<Slot> slots_;
  uint64_t next_pid_ = 100;
  uint64_t sum_driver_ = 0;
  uint64_t sum_vm_ = 0;
  uint64_t procs_holding_ = 0;
  uint64_t emitted_ = 0;
  uint64_t bug_left_ = 0;
  uint64_t t_ = 1732550400000000;  // microseconds
};

void Usage(FILE* f) {
  std::fputs(
      "usage: refctrace_bench_gen [--events N] [--seed S] [--live N] [--procs N]\n"
      "                           [--inject-bugs K] [--short-lines] [-o FILE]\n"
      "Writes a deterministic refctrace v1 NDJSON trace (valid under model-v1\n"
      "unless --inject-bugs is given) to FILE or standard output.\n"
      "  --events N       events after the header (default 2000000)\n"
      "  --seed S         PRNG seed (default 1)\n"
      "  --live N         max binaries live at once (default 2000)\n"
      "  --procs N        processes alive at once (default 64)\n"
      "  --inject-bugs K  add K bugs: double free, write after output, leak (default 0)\n"
      "  --short-lines    leave out src, stack, t and seq (same events, shorter lines)\n",
      f);
}

bool ParseU64(const char* s, uint64_t& v) {
  const char* end = s + std::strlen(s);
  auto r = std::from_chars(s, end, v);
  return r.ec == std::errc() && r.ptr == end && end != s;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      Usage(stdout);
      return 0;
    }
    if (arg == "--short-lines") {
      o.short_lines = true;
      continue;
    }
    uint64_t* target = nullptr;
    if (arg == "--events")
      target = &o.events;
    else if (arg == "--seed")
      target = &o.seed;
    else if (arg == "--live")
      target = &o.live;
    else if (arg == "--procs")
      target = &o.procs;
    else if (arg == "--inject-bugs")
      target = &o.inject_bugs;
    else if (arg != "-o") {
      std::fprintf(stderr, "refctrace_bench_gen: unknown argument '%s'\n", argv[i]);
      Usage(stderr);
      return 2;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "refctrace_bench_gen: %s needs a value\n", argv[i]);
      return 2;
    }
    ++i;
    if (target == nullptr) {
      o.out_path = argv[i];
    } else if (!ParseU64(argv[i], *target)) {
      std::fprintf(stderr, "refctrace_bench_gen: %s: not a non-negative integer: '%s'\n",
                   argv[i - 1], argv[i]);
      return 2;
    }
  }
  if (o.live < 1 || o.procs < 1 || o.live > 10000000 || o.procs > 10000000) {
    std::fprintf(stderr, "refctrace_bench_gen: --live and --procs must be in 1..10000000\n");
    return 2;
  }
  if (o.events < 2 + 16 * o.inject_bugs) {
    std::fprintf(stderr, "refctrace_bench_gen: --events must be at least %llu\n",
                 static_cast<unsigned long long>(2 + 16 * o.inject_bugs));
    return 2;
  }

  FILE* f = stdout;
  if (!o.out_path.empty() && o.out_path != "-") {
    f = std::fopen(o.out_path.c_str(), "wb");
    if (f == nullptr) {
      std::fprintf(stderr, "refctrace_bench_gen: cannot open '%s': %s\n", o.out_path.c_str(),
                   std::strerror(errno));
      return 2;
    }
  }
  Writer w(f);
  Generator g(o, w);
  g.Run();
  const bool ok = w.Flush() && std::fflush(f) == 0 && (f == stdout || std::fclose(f) == 0);
  if (!ok) {
    std::fprintf(stderr, "refctrace_bench_gen: write failed\n");
    return 2;
  }
  if (g.emitted() != o.events) {
    std::fprintf(stderr, "refctrace_bench_gen: internal error: wrote %llu events, wanted %llu\n",
                 static_cast<unsigned long long>(g.emitted()),
                 static_cast<unsigned long long>(o.events));
    return 2;
  }
  return 0;
}
