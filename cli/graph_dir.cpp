#include "cli/graph_dir.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "cli/lifetimes.h"
#include "cli/output_file.h"
#include "render/graphviz.h"
#include "render/lifetime_graph.h"

namespace refctrace::cli {

namespace {

// Enough for any CI run to look at; the rest are named on stderr.
constexpr size_t kMaxGraphs = 100;

// A file-name-safe version of an id or input name.
std::string Safe(const std::string& text) {
  std::string s = "_";  // a leading '_' keeps the name from starting with '.'
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    s += ok ? c : '_';
  }
  if (s.size() > 1 && s[1] != '.') s.erase(0, 1);
  return s;
}

}  // namespace

bool WriteFindingGraphs(const render::InputReport& report, const std::string& dir,
                        bool input_prefix, const model::ModelOptions& options, std::ostream& names,
                        std::ostream& errors) {
  if (report.findings.empty()) return true;
  if (report.path == "-") {
    errors << "refctrace: --graph-dir: standard input was read once, so its binaries are not "
              "drawn; give the trace as a file\n";
    return true;
  }
  if (report.header.IsPart()) {
    errors << "refctrace: --graph-dir: " << report.path << " is a part of run " << report.header.run
           << ", and pictures of a run's parts are not drawn yet\n";
    return true;
  }
  LifetimeRequest request;
  request.only_findings = true;
  request.max_lifetimes = kMaxGraphs;
  const CollectedLifetimes collected = CollectLifetimes(report.path, request, options);

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    errors << "refctrace: error: cannot create " << dir << ": " << ec.message() << "\n";
    return false;
  }
  const std::string prefix =
      input_prefix ? Safe(std::filesystem::path(report.path).stem().string()) + "." : "";
  std::set<std::string> used;
  bool ok = true;
  for (const model::Lifetime& life : collected.lifetimes) {
    const auto findings = render::FindingsOf(life, collected.report.findings);
    // <bin>[-<incarnation>].<code>[+<code>...].svg
    const model::IncarnationKey& start = life.names.front();
    std::string base = prefix + Safe(start.bin.ToDisplay());
    if (start.incarnation > 1) base += "-" + std::to_string(start.incarnation);
    std::vector<std::string> codes;
    for (const model::Finding* f : findings) {
      const std::string code(model::CodeName(f->code));
      if (std::find(codes.begin(), codes.end(), code) == codes.end()) codes.push_back(code);
    }
    std::string what;
    for (const std::string& code : codes)
      what += (what.empty() ? "" : "+") + code;
    base += "." + what;
    std::string name = base;
    for (int n = 2; !used.insert(name).second; ++n)
      name = base + "-" + std::to_string(n);
    const std::string file = (std::filesystem::path(dir) / (name + ".svg")).string();

    render::GraphOptions graph_options;
    graph_options.title = report.path;
    const render::LifetimeGraph graph =
        render::BuildLifetimeGraph({life}, collected.report.findings, graph_options);
    // Written whole or not at all, even if the run is interrupted.
    trace::MaybeError error;
    trace::ErrorOr<std::unique_ptr<AtomicOutputFile>> out = AtomicOutputFile::Create(file);
    if (!out.ok()) {
      error = out.error();
    } else {
      error = render::RenderGraph(graph, render::GraphFormat::kSvg, (*out)->stream());
      if (!error) error = (*out)->Commit();
    }
    if (error) {
      errors << "refctrace: error: " << error->message << "\n";
      ok = false;
      continue;
    }
    std::string all;
    for (const std::string& code : codes)
      all += (all.empty() ? "" : ", ") + code;
    names << "refctrace: graph of " << render::IncarnationName(start) << " (" << all
          << "): " << file << "\n";
  }
  if (collected.left_out) {
    errors << "refctrace: --graph-dir: " << collected.left_out << " more binaries with findings in "
           << report.path << " not drawn; draw them with `refctrace graph " << report.path
           << " --bin ID -o FILE.svg`\n";
  }
  return ok;
}

}  // namespace refctrace::cli
