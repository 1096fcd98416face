// Checks that every relative link and anchor in the repository's Markdown
// files resolves inside the repository: `doc_links ROOT [--exclude DIR]...`
// prints each broken link as `file:line: message` and exits 1 if there is one.
//
// A link is `[text](target)` or `![alt](target)` outside fenced code. Links
// with a scheme (https:, mailto:) are not followed. `path#anchor` must name
// an existing file under ROOT and, for a Markdown file, a heading whose
// GitHub anchor is `anchor`; `#anchor` names a heading of the same file.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Link {
  size_t line = 0;
  std::string target;
};

// GitHub's anchor for a heading: lower case, markup and punctuation dropped
// (letters, digits, '-' and '_' stay), spaces become '-'.
std::string Anchor(const std::string& heading) {
  std::string out;
  for (unsigned char c : heading) {
    if (std::isalnum(c) || c == '-' || c == '_') {
      out += static_cast<char>(std::tolower(c));
    } else if (c == ' ') {
      out += '-';
    } else if (c >= 0x80) {
      out += static_cast<char>(c);  // non-ASCII letters are kept as they are
    }
  }
  return out;
}

struct Page {
  std::vector<Link> links;
  std::set<std::string> anchors;
};

Page Read(const fs::path& file) {
  Page page;
  std::ifstream in(file);
  std::string line;
  size_t number = 0;
  bool fenced = false;
  std::map<std::string, int> seen;  // repeated headings get -1, -2, ...
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("```", 0) == 0) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    if (line.rfind('#', 0) == 0) {
      const size_t text = line.find_first_not_of('#');
      if (text != std::string::npos && line[text] == ' ') {
        std::string anchor = Anchor(line.substr(text + 1));
        const int n = seen[anchor]++;
        page.anchors.insert(n == 0 ? anchor : anchor + "-" + std::to_string(n));
      }
    }
    bool code = false;  // inside `inline code`
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '`') code = !code;
      if (code || line[i] != ']' || i + 1 >= line.size() || line[i + 1] != '(') continue;
      const size_t end = line.find(')', i + 2);
      if (end == std::string::npos) continue;
      std::string target = line.substr(i + 2, end - i - 2);
      if (const size_t space = target.find(' '); space != std::string::npos)
        target.resize(space);  // [x](path "title")
      page.links.push_back({number, target});
    }
  }
  return page;
}

bool HasScheme(const std::string& target) {
  const size_t colon = target.find(':');
  return colon != std::string::npos && target.find('/') > colon;
}

bool Inside(const fs::path& root, const fs::path& p) {
  const std::string r = root.string(), s = p.string();
  return s == r || (s.rfind(r, 0) == 0 && s[r.size()] == '/');
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> excluded;
  for (int i = 2; i + 1 < argc && std::string(argv[i]) == "--exclude"; i += 2)
    excluded.push_back(fs::weakly_canonical(argv[i + 1]));
  if (argc < 2 || (argc - 2) != static_cast<int>(2 * excluded.size())) {
    std::cerr << "usage: doc_links ROOT [--exclude DIR]...\n";
    return 2;
  }
  const fs::path root = fs::canonical(argv[1]);
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() &&
        (name == ".git" || name == "node_modules" || name.rfind("build", 0) == 0 ||
         std::count(excluded.begin(), excluded.end(), it->path()))) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().extension() == ".md") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());

  std::map<fs::path, Page> pages;
  for (const fs::path& f : files)
    pages[f] = Read(f);

  size_t broken = 0;
  size_t checked = 0;
  for (const fs::path& f : files) {
    for (const Link& link : pages[f].links) {
      if (link.target.empty() || HasScheme(link.target)) continue;
      ++checked;
      const size_t hash = link.target.find('#');
      const std::string path = link.target.substr(0, hash);
      const std::string anchor = hash == std::string::npos ? "" : link.target.substr(hash + 1);
      const fs::path target =
          path.empty() ? f : fs::weakly_canonical(f.parent_path() / fs::path(path));
      std::string problem;
      if (!Inside(root, target)) {
        problem = "leaves the repository";
      } else if (!fs::exists(target)) {
        problem = "points nowhere";
      } else if (!anchor.empty() && target.extension() == ".md") {
        if (!pages.count(target)) pages[target] = Read(target);
        if (!pages[target].anchors.count(anchor)) problem = "names no heading of its file";
      }
      if (!problem.empty()) {
        ++broken;
        std::cout << fs::relative(f, root).string() << ":" << link.line << ": link '" << link.target
                  << "' " << problem << "\n";
      }
    }
  }
  std::cout << files.size() << " Markdown files, " << checked << " relative links, " << broken
            << " broken\n";
  return broken ? 1 : 0;
}
