// Standard output that may go away: `refctrace check big.ndjson | head -1`
// closes the pipe early. SIGPIPE is ignored, so a write fails with EPIPE
// instead of killing the process mid-write; the command then stops quietly.
#pragma once

namespace refctrace::cli {

// Called first in main(): ignores SIGPIPE, installs the output-file cleanup
// on SIGINT/SIGTERM/SIGHUP, and points closed standard descriptors (0, 1, 2)
// at /dev/null, so no file the tool opens can become "standard output".
void PrepareStandardStreams();

// True once writing to standard output failed because the reader went away
// (EPIPE): there is no point producing more.
bool StandardOutputClosed();

// Called last in main() with the command's exit status: flushes standard
// output. If the reader went away, removes temporary outputs and dies of
// SIGPIPE, quietly, like any Unix filter (status 141 in a shell). Another
// write error (a full disk) is reported, and the status becomes 2.
int FinishStandardOutput(int status);

}  // namespace refctrace::cli
